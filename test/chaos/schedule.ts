/**
 * The chaos suite's fault schedule: one fault per phase, each lifted before the next, so every
 * phase's figures belong to one fault. Durations come in two sizes: the short schedule (CI) and
 * the full one (`npm run chaos`).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Cluster } from '../../scripts/cluster/index.ts';
import { isDown, isUp, waitForServer } from '../../devkit/haproxy.ts';
import { until } from '../../devkit/wait.ts';
import type { BreakerWatch } from './breakerWatch.ts';

export interface PhaseContext {
  readonly cluster: Cluster;
  readonly supergraphPath: string;
  readonly full: boolean;
  /** Page requests in flight right now. */
  readonly inFlight: () => number;
  readonly watch: BreakerWatch;
  /** How long a lifted fault's breakers may take to close, ms. */
  readonly closeBoundMs: number;
}

export interface PhaseOutcome {
  /** When the fault began (performance.now() ms); default the phase's start. */
  readonly faultAt?: number;
  /** When the fault was lifted: breakers are judged on closing from here. */
  readonly liftedAt?: number;
  /** Requests that may be lost: those a SIGKILLed process had or was sent before HAProxy noticed. */
  readonly loss?: { readonly inFlightAtKill: number; readonly from: number; readonly to: number };
  readonly notes?: string;
}

export interface PhaseSpec {
  readonly name: string;
  /** The subgraph the fault is in, whose breakers are watched. */
  readonly subgraph?: string;
  /** `opens`: within the bound on every instance; `stays-closed`: never; `may-open`: either, but closes after. */
  readonly breaker: 'opens' | 'stays-closed' | 'may-open' | 'none';
  readonly timeoutMs: number;
  run(ctx: PhaseContext): Promise<PhaseOutcome>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setFault(cluster: Cluster, subgraph: string, fault: Record<string, unknown> | undefined): Promise<void> {
  const url = `${cluster.mockUrls[subgraph as keyof typeof cluster.mockUrls]}/faults`;
  const res = fault
    ? await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fault) })
    : await fetch(url, { method: 'DELETE' });
  if (!res.ok) throw new Error(`setting ${subgraph} faults failed: HTTP ${res.status} ${await res.text()}`);
}

/** A subgraph fault held for `ms`, then lifted; waits for the subgraph's breakers to close again. */
function subgraphFault(name: string, subgraph: string, fault: Record<string, unknown>, breaker: PhaseSpec['breaker'], short: number, full: number): PhaseSpec {
  return {
    name,
    subgraph,
    breaker,
    timeoutMs: 90_000,
    async run(ctx) {
      const faultAt = performance.now();
      await setFault(ctx.cluster, subgraph, fault);
      await sleep(ctx.full ? full : short);
      await setFault(ctx.cluster, subgraph, undefined);
      const liftedAt = performance.now();
      await ctx.watch.waitClosed(subgraph, liftedAt, ctx.closeBoundMs + 2_000);
      return { faultAt, liftedAt };
    },
  };
}

/** The gateway's resident memory on each instance, MB, from its own metrics. */
async function rssMb(cluster: Cluster): Promise<number[]> {
  return Promise.all(
    cluster.instances.map(async (g) => {
      const text = await (await fetch(`${g.opsUrl}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
      const m = /^process_resident_memory_bytes (\S+)$/m.exec(text);
      return m ? Math.round(Number(m[1]) / 1_048_576) : -1;
    }),
  );
}

export function chaosSchedule(full: boolean): PhaseSpec[] {
  const d = (short: number, long: number) => (full ? long : short);
  return [
    {
      name: 'steady (no fault)',
      breaker: 'none',
      timeoutMs: 60_000,
      async run() {
        await sleep(d(3_000, 10_000));
        return {};
      },
    },
    subgraphFault('pricing hangs (accepts, never answers)', 'pricing', { mode: 'hang' }, 'opens', 6_000, 20_000),
    subgraphFault('pricing answers in 1.5 s (slow, under the 2 s timeout)', 'pricing', { latencyMs: 1_500 }, 'opens', 6_000, 15_000),
    subgraphFault('inventory: HTTP 500 on 30 % of calls', 'inventory', { errorRate: 0.3, httpStatus: 500 }, 'stays-closed', 5_000, 10_000),
    {
      name: 'review flapping (down 2 s / up 2 s)',
      subgraph: 'review',
      breaker: 'may-open',
      timeoutMs: 90_000,
      async run(ctx) {
        const faultAt = performance.now();
        const until = faultAt + d(8_000, 16_000);
        while (performance.now() < until) {
          await setFault(ctx.cluster, 'review', { mode: 'refuse' });
          await sleep(2_000);
          await setFault(ctx.cluster, 'review', undefined);
          await sleep(2_000);
        }
        const liftedAt = performance.now();
        await ctx.watch.waitClosed('review', liftedAt, ctx.closeBoundMs + 2_000);
        return { faultAt, liftedAt };
      },
    },
    subgraphFault('review: GraphQL errors with HTTP 200', 'review', { mode: 'graphql-error' }, 'stays-closed', 5_000, 10_000),
    {
      name: 'inventory: 50 MB answers',
      subgraph: 'inventory',
      breaker: 'may-open',
      timeoutMs: 90_000,
      async run(ctx) {
        const before = await rssMb(ctx.cluster);
        const faultAt = performance.now();
        await setFault(ctx.cluster, 'inventory', { mode: 'huge' });
        let peak = before;
        const end = faultAt + d(4_000, 10_000);
        while (performance.now() < end) {
          await sleep(500);
          const now = await rssMb(ctx.cluster).catch(() => peak);
          peak = peak.map((p, i) => Math.max(p, now[i] ?? -1));
        }
        await setFault(ctx.cluster, 'inventory', undefined);
        const liftedAt = performance.now();
        await ctx.watch.waitClosed('inventory', liftedAt, ctx.closeBoundMs + 2_000);
        // Memory stays bounded: the limit (16 MiB) times the calls in flight, never 50 MB each.
        for (const [i, mb] of peak.entries()) if (mb > 1_536) throw new Error(`gw${i + 1} grew to ${mb} MB on 50 MB answers`);
        if (ctx.cluster.instances.some((g) => !g.process.running())) throw new Error('a gateway died on 50 MB answers');
        return { faultAt, liftedAt, notes: `RSS MB before ${before.join(' / ')}, peak ${peak.join(' / ')}` };
      },
    },
    subgraphFault('inventory: a body that never ends', 'inventory', { mode: 'endless' }, 'opens', 6_000, 15_000),
    {
      name: 'Redis SIGSTOP (frozen), then SIGCONT',
      breaker: 'none',
      timeoutMs: 60_000,
      async run(ctx) {
        const redis = ctx.cluster.redis();
        redis.signal('SIGSTOP');
        try {
          await sleep(d(4_000, 10_000));
        } finally {
          redis.signal('SIGCONT');
        }
        const back = performance.now();
        const modes = async () =>
          Promise.all(ctx.cluster.instances.map(async (g) => ((await (await fetch(`${g.opsUrl}/health/subgraphs`)).json()) as { gateway: { limiter: { mode: string } | null } }).gateway.limiter?.mode));
        await until('every limiter back on Redis', async () => (await modes()).every((m) => m === 'redis'), 20_000, 100);
        return { notes: `limiters back on Redis ${Math.round(performance.now() - back)} ms after SIGCONT` };
      },
    },
    {
      name: 'SIGKILL gw3, then restart it',
      breaker: 'none',
      timeoutMs: 90_000,
      async run(ctx) {
        await sleep(1_000);
        const victim = ctx.cluster.instance(2);
        const inFlightAtKill = ctx.inFlight();
        const killedAt = performance.now();
        victim.process.signal('SIGKILL');
        await waitForServer(ctx.cluster.lbStatsUrl, victim.name, isDown);
        const downAt = performance.now();
        await victim.process.exited;
        await sleep(1_000);
        await ctx.cluster.startInstance(2);
        await waitForServer(ctx.cluster.lbStatsUrl, victim.name, isUp);
        await sleep(1_000);
        return { loss: { inFlightAtKill, from: killedAt, to: downAt }, notes: `HAProxy had it DOWN ${Math.round(downAt - killedAt)} ms after the kill` };
      },
    },
    {
      name: 'SIGTERM gw2 (graceful drain), then restart it',
      breaker: 'none',
      timeoutMs: 90_000,
      async run(ctx) {
        const victim = ctx.cluster.instance(1);
        const t0 = performance.now();
        victim.process.signal('SIGTERM');
        await waitForServer(ctx.cluster.lbStatsUrl, victim.name, isDown);
        const drained = performance.now() - t0;
        const exit = await victim.process.exited;
        if (exit.code !== 0) throw new Error(`gw2 exited with ${exit.signal ?? exit.code} after SIGTERM`);
        await ctx.cluster.startInstance(1);
        await waitForServer(ctx.cluster.lbStatsUrl, victim.name, isUp);
        await sleep(1_000);
        return { notes: `out of rotation after ${Math.round(drained)} ms of drain` };
      },
    },
    {
      name: 'two supergraph reloads',
      breaker: 'none',
      timeoutMs: 60_000,
      async run(ctx) {
        const original = readFileSync(ctx.supergraphPath, 'utf8');
        const reloads = async () =>
          Promise.all(ctx.cluster.instances.map(async (g) => ((await (await fetch(`${g.opsUrl}/health/subgraphs`)).json()) as { gateway: { supergraph: { reloads: { success: number } } } }).gateway.supergraph.reloads.success));
        const before = await reloads();
        // Replace by rename, as deploy tools do: the watcher never reads a half-written file.
        const publish = (sdl: string) => {
          writeFileSync(`${ctx.supergraphPath}.next`, sdl);
          renameSync(`${ctx.supergraphPath}.next`, ctx.supergraphPath);
        };
        for (const n of [1, 2]) {
          publish(`${original}\n# chaos reload ${n}\n`);
          await until(`every instance to count reload ${n}`, async () => (await reloads()).every((r, i) => r >= before[i]! + n), 15_000, 100);
          await sleep(1_500);
        }
        return { notes: 'each instance reloaded twice' };
      },
    },
  ];
}
