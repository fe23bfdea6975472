/**
 * Open-loop load: requests are sent on a fixed schedule whatever the answers do, so an overloaded
 * server sees its backlog grow as real clients would make it grow (a closed loop, autocannon's,
 * slows down with the server and hides overload). Each request belongs to a class (a tier);
 * every answer is recorded per class.
 */
import { Agent, request } from 'node:http';

export interface OpenLoopClass {
  readonly name: string;
  /** Share of the arrivals, 0..1 (shares should add up to 1). */
  readonly share: number;
  readonly headers: Record<string, string>;
}

export interface OpenLoopOptions {
  readonly url: string;
  readonly body: string;
  /** Arrivals per second, all classes together. */
  readonly rps: number;
  readonly durationS: number;
  readonly classes: readonly OpenLoopClass[];
  /** A request unanswered after this long counts as timed out, ms. Default 10,000. */
  readonly timeoutMs?: number;
  /**
   * Most connections open at once; arrivals beyond wait in the generator (and their wait counts
   * in their latency and against their timeout). Like the load balancer in front of a gateway
   * (HAProxy: `maxconn` per server, then its queue): without a bound, an overloaded server drowns
   * in new connections its kernel cannot even accept, which measures the kernel, not the
   * gateway. Default 256.
   */
  readonly maxConnections?: number;
}

export interface ClassStats {
  readonly name: string;
  readonly offered: number;
  /** 200 answers without GraphQL errors. */
  readonly ok: number;
  /** 503 answers (shed). */
  readonly shed: number;
  /** Other statuses, socket errors and timeouts. */
  readonly failed: number;
  /** Latencies of the `ok` answers, ms, ascending. */
  readonly okLatenciesMs: Float64Array;
}

/** Arrivals evenly interleaved by class (a deterministic weighted round-robin), at `rps`. */
export async function runOpenLoop(opts: OpenLoopOptions): Promise<ClassStats[]> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const agent = new Agent({ keepAlive: true, maxSockets: opts.maxConnections ?? 256 });
  const target = new URL(opts.url);
  const stats = opts.classes.map((c) => ({ name: c.name, offered: 0, ok: 0, shed: 0, failed: 0, latencies: [] as number[] }));
  const credit = opts.classes.map(() => 0);
  const total = Math.round(opts.rps * opts.durationS);
  const pending: Promise<void>[] = [];
  const start = performance.now();

  const send = (k: number): Promise<void> =>
    new Promise((resolve) => {
      const cls = opts.classes[k]!;
      const s = stats[k]!;
      s.offered++;
      const sent = performance.now();
      let done = false;
      // A hard deadline from sending (a socket idle timeout would restart on every byte).
      const timer = setTimeout(() => {
        req.destroy();
        finish('failed');
      }, timeoutMs);
      const finish = (outcome: 'ok' | 'shed' | 'failed'): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (outcome === 'ok') s.latencies.push(performance.now() - sent);
        s[outcome]++;
        resolve();
      };
      const req = request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', ...cls.headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode === 503) finish('shed');
            else finish(res.statusCode === 200 && !Buffer.concat(chunks).includes('"errors"') ? 'ok' : 'failed');
          });
          res.on('error', () => finish('failed'));
        },
      );
      req.on('error', () => finish('failed'));
      req.end(opts.body);
    });

  for (let i = 0; i < total; i++) {
    const due = start + (i * 1_000) / opts.rps;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    // Weighted round-robin: the class furthest behind its share goes next.
    for (let k = 0; k < credit.length; k++) credit[k]! += opts.classes[k]!.share;
    let best = 0;
    for (let k = 1; k < credit.length; k++) if (credit[k]! > credit[best]!) best = k;
    credit[best]! -= 1;
    pending.push(send(best));
  }
  await Promise.all(pending);
  agent.destroy();
  return stats.map((s) => ({
    name: s.name,
    offered: s.offered,
    ok: s.ok,
    shed: s.shed,
    failed: s.failed,
    okLatenciesMs: Float64Array.from(s.latencies).sort(),
  }));
}
