import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Logger } from '../logging/index.ts';
import { requestState } from '../request/state.ts';
import { probeBody, type ProbeDefinition } from './definitions.ts';
import { judgeProbe, type ProbeResult } from './outcome.ts';

export { loadProbes, parseProbes, ProbeDefinitionError, type ProbeDefinition } from './definitions.ts';
export { judgeProbe, type ProbeResult, type ProbeResultKind } from './outcome.ts';

/**
 * Synthetic probes (issue 19): each configured operation runs every `intervalMs` from this
 * instance through its own full pipeline — a loopback HTTP request to its own listener, so
 * authentication, limits, planning, every subgraph call and degradation are what a client
 * meets. A probe authenticates with the configured token; it is recognised by a per-process
 * secret header (never configured, never leaves loopback), which exempts it from the rate
 * limit and marks it in the access log (`probe`). A probe failing while real traffic is quiet
 * is how ops learn first (metrics, /status, the PorticoProbeFailing alert).
 */

/** Header that marks a probe request; its value is this process's secret, then the probe name. */
export const PROBE_HEADER = 'x-portico-probe';
/** Results kept per probe for the status page's strip (15 minutes at the default 30 s). */
export const PROBE_HISTORY = 30;

export interface ProbesOptions {
  readonly probes: readonly ProbeDefinition[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Bearer token the probes authenticate with; unset: anonymous. */
  readonly token: string | undefined;
}

export interface ProbesDeps {
  readonly logger: Logger;
  /** Told of every run (metrics). Must not throw. */
  readonly onResult?: (result: ProbeResult) => void;
}

export interface Probes {
  /** Fastify `onRequest` hook: marks a request carrying this process's probe header as that probe. */
  readonly hook: (req: FastifyRequest) => Promise<void>;
  /** Starts probing the gateway at `baseUrl` (its own loopback address). First run after one interval. */
  start(baseUrl: string): void;
  /** Runs every probe once now and resolves with the results (tests, the admin view). */
  runOnce(): Promise<ProbeResult[]>;
  /** Latest results first, per probe. */
  history(): Record<string, readonly ProbeResult[]>;
  /** Idempotent. Waits for runs in progress. */
  stop(): Promise<void>;
}

export function createProbes(options: ProbesOptions, deps: ProbesDeps): Probes {
  const log = deps.logger.child({ component: 'probes' });
  const secret = randomBytes(18).toString('base64url');
  const secretBytes = Buffer.from(secret);
  const names = new Set(options.probes.map((p) => p.name));
  const results = new Map<string, ProbeResult[]>(options.probes.map((p) => [p.name, []]));
  const bodies = new Map(options.probes.map((p) => [p.name, probeBody(p)]));
  let baseUrl: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  let seq = 0;

  async function runProbe(p: ProbeDefinition): Promise<ProbeResult> {
    const at = new Date();
    const started = performance.now();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [PROBE_HEADER]: `${secret} ${p.name}`,
      'x-request-id': `probe-${p.name}-${++seq}`,
      // Apollo's CSRF prevention wants a preflight-forcing header on every non-JSON request; ours are JSON anyway.
      'apollo-require-preflight': 'true',
    };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let result: ProbeResult;
    try {
      const res = await fetch(`${baseUrl}/graphql`, { method: 'POST', headers, body: bodies.get(p.name), signal: AbortSignal.timeout(options.timeoutMs) });
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      result = judgeProbe(p.name, at, res.status, performance.now() - started, body);
    } catch (err) {
      const e = err as Error;
      result = judgeProbe(p.name, at, 0, performance.now() - started, undefined, e.name === 'TimeoutError' ? 'PROBE_TIMEOUT' : 'PROBE_UNREACHABLE');
    }
    const list = results.get(p.name)!;
    list.unshift(result);
    if (list.length > PROBE_HISTORY) list.pop();
    try {
      deps.onResult?.(result);
    } catch (err) {
      log.error({ err }, 'probe result listener threw; ignored');
    }
    const fields = { event: 'probe', probe: p.name, result: result.result, status: result.status, latencyMs: result.latencyMs, degradedServices: result.degradedServices, errorCodes: result.errorCodes };
    if (result.result === 'ok') log.debug(fields, `probe ${p.name}: ok in ${result.latencyMs} ms`);
    else log.warn(fields, `probe ${p.name}: ${result.result} (HTTP ${result.status}${result.errorCodes.length ? `, ${result.errorCodes.join(', ')}` : ''}${result.degradedServices.length ? `, degraded: ${result.degradedServices.join(', ')}` : ''})`);
    return result;
  }

  async function runAll(): Promise<ProbeResult[]> {
    if (!baseUrl) return [];
    return Promise.all(options.probes.map(runProbe));
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runAll().finally(() => {
        running = undefined;
        schedule();
      });
    }, options.intervalMs);
    timer.unref();
  }

  return {
    async hook(req) {
      const raw = req.headers[PROBE_HEADER];
      if (typeof raw !== 'string') return;
      const space = raw.indexOf(' ');
      const presented = Buffer.from(space > 0 ? raw.slice(0, space) : raw);
      const name = space > 0 ? raw.slice(space + 1) : '';
      // Only this process's own probes carry the secret; anything else is an ordinary request.
      if (presented.length === secretBytes.length && timingSafeEqual(presented, secretBytes) && names.has(name)) requestState(req).probe = name;
    },
    start(url) {
      baseUrl = url;
      if (options.probes.length === 0) return;
      log.info({ event: 'probes_started', probes: [...names], intervalMs: options.intervalMs }, `probes: ${[...names].join(', ')} every ${options.intervalMs / 1_000} s`);
      schedule();
    },
    runOnce: runAll,
    history: () => Object.fromEntries([...results].map(([name, list]) => [name, [...list]])),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
