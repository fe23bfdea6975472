/**
 * The A/B run: per round, per subgraph set, each gateway alone — started fresh, golden-checked,
 * warmed, measured workload after workload, its memory read, stopped — gateways alternating
 * A B C … A B C ….
 */
import { setTimeout as delay } from 'node:timers/promises';
import { startCpuMeter, type CpuUse } from '../lib/cpu.ts';
import { describeLoad, type LoadStats } from '../lib/load.ts';
import type { Measurement, MemoryRecord, MemorySample } from '../lib/report.ts';
import type { GatewaySpec } from '../gateways/index.ts';
import { WORKLOADS, type SubgraphSet, type Workload, type WorkloadId } from '../workloads.ts';
import type { RunContext, RunningGateway } from './context.ts';
import { loadFor, readMemory, startGateway } from './gateway.ts';
import type { Options } from './options.ts';
import { progress } from './progress.ts';
import { ensureSubgraphs } from './subgraphs.ts';

/** Estimate per gateway start + golden check + stop, s (for the ETA only). */
const START_OVERHEAD_S = 6;
/** Pause before the one retry of a gateway that failed to start, ms. */
const START_RETRY_DELAY_MS = 10_000;

/** What a run collects, in the order it happens. */
export interface RoundsResult {
  readonly measurements: Measurement[];
  readonly memory: MemoryRecord[];
  /** Connections refused by the loopback guard, per gateway. */
  readonly egress: Map<string, number>;
}

/** The subgraph sets the workloads need, in workload order. */
export function setsOf(workloads: readonly WorkloadId[]): SubgraphSet[] {
  const sets: SubgraphSet[] = [];
  for (const w of workloads) if (!sets.includes(WORKLOADS[w].set)) sets.push(WORKLOADS[w].set);
  return sets;
}

/** How long the run will take, s (for the plan line). */
export function etaSeconds(opts: Options, gateways: number): number {
  let perRound = 0;
  for (const set of setsOf(opts.workloads)) {
    const n = opts.workloads.filter((w) => WORKLOADS[w].set === set).length;
    perRound += START_OVERHEAD_S + opts.warmupS + opts.measureS + (n - 1) * (opts.rewarmS + opts.measureS);
  }
  return perRound * gateways * opts.rounds;
}

/** The first line of a start error plus the child's own error line, if its output has one. */
function startFailure(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const [first = '', ...rest] = text.split('\n');
  const cause = rest.find((line) => /\b\w*Error\b|portico:/.test(line));
  return cause === undefined ? first : `${first.replace(/; last output:$/, '')}: ${cause.trim()}`;
}

export async function runRounds(ctx: RunContext, gateways: readonly GatewaySpec[]): Promise<RoundsResult> {
  const { opts } = ctx;
  const result: RoundsResult = { measurements: [], memory: [], egress: new Map() };
  for (let round = 1; round <= opts.rounds; round++) {
    for (const set of setsOf(opts.workloads)) {
      const workloads = opts.workloads.filter((w) => WORKLOADS[w].set === set).map((w) => WORKLOADS[w]);
      for (const spec of gateways) {
        const running = await ensureSubgraphs(ctx, set);
        if (running === undefined) continue;
        progress(`round ${round}/${opts.rounds} · ${set} subgraphs · ${spec.name}`);
        const record = (w: Workload, status: Measurement['status'], message: string | undefined, stats?: LoadStats, cpu?: CpuUse) =>
          result.measurements.push({ round, gateway: spec.name, workload: w.id, status, message, stats, cpu });
        let gw: RunningGateway | undefined;
        let failure = '';
        // One retry: on a shared machine a start can fail for passing reasons (a colleague's
        // `npm ci` swapping node_modules, a port grabbed between freePort() and listen()).
        for (let attempt = 1; attempt <= 2 && gw === undefined; attempt++) {
          try {
            gw = await startGateway(ctx, spec, running, `r${round}-${set}-${attempt}`);
          } catch (err) {
            failure = startFailure(err);
            progress(`  ${spec.name}: did not start (attempt ${attempt}/2): ${failure}`);
            if (attempt === 1) await delay(START_RETRY_DELAY_MS);
          }
        }
        if (gw === undefined) {
          for (const w of workloads) record(w, 'failed', `did not start: ${failure}`);
          continue;
        }
        let afterWarmup: MemorySample | undefined;
        try {
          const accepted: Workload[] = [];
          for (const w of workloads) {
            const problem = await ctx.golden.check({ name: spec.name, url: gw.url, headers: gw.headers }, w);
            if (problem === undefined) {
              accepted.push(w);
              progress(`  golden ${w.id}: ok (${ctx.golden.size(w)})`);
            } else {
              progress(`  golden ${w.id}: ABORTED ${spec.name} — ${problem}`);
              record(w, 'aborted', `golden check: ${problem}`);
            }
          }
          for (const [i, w] of accepted.entries()) {
            const warm = i === 0 ? opts.warmupS : opts.rewarmS;
            if (warm > 0) {
              progress(`  ${w.id} ${w.name}: warm-up ${warm} s`);
              await loadFor(gw, w, opts, warm);
            }
            if (i === 0) afterWarmup = await readMemory(ctx.ports);
            progress(`  ${w.id} ${w.name}: measure ${opts.measureS} s`);
            const meter = startCpuMeter(gw.child.pid, [running.child.pid]);
            const stats = await loadFor(gw, w, opts, opts.measureS);
            const cpu = meter();
            if (!gw.child.running()) {
              record(w, 'failed', `exited during the run; last output: ${gw.child.output().trimEnd().split('\n').slice(-3).join(' | ')}`);
              break;
            }
            progress(
              `  ${w.id} ${w.name}: ${describeLoad(stats)} · CPU gateway ${cpu.gatewayPct.toFixed(0)}% (starved ${cpu.gatewayStarvedPct.toFixed(0)}%), subgraphs ` +
                `${cpu.subgraphsPct.toFixed(0)}%, load generator ${cpu.loadGeneratorPct.toFixed(0)}% · load avg ${cpu.loadAverage.toFixed(1)}`,
            );
            for (const sample of stats.errorSamples) progress(`    error sample: ${sample}`);
            record(w, 'ok', undefined, stats, cpu);
          }
          result.memory.push({ round, gateway: spec.name, set, afterWarmup, afterRun: await readMemory(ctx.ports) });
        } finally {
          result.egress.set(spec.name, (result.egress.get(spec.name) ?? 0) + gw.egressBlocked());
          await gw.child.stop();
        }
      }
    }
  }
  return result;
}
