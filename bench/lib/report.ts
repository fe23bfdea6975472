/**
 * Turns per-round measurements into the results tables (Markdown for humans and docs, JSON for
 * tools). Throughput is the median over rounds; latency percentiles are pooled over every
 * response of every round; error counts are summed.
 */
import type { CpuUse } from './cpu.ts';
import type { LoadStats } from './load.ts';
import { percentile } from './load.ts';

export type RowStatus = 'ok' | 'aborted' | 'failed';

/** One gateway × workload × round. */
export interface Measurement {
  readonly round: number;
  readonly gateway: string;
  readonly workload: string;
  readonly status: RowStatus;
  /** Why the row has no figures (aborted: golden mismatch; failed: crash, start failure). */
  readonly message: string | undefined;
  readonly stats: LoadStats | undefined;
  /** CPU use during the measurement (not the warm-up). */
  readonly cpu: CpuUse | undefined;
}

export interface MemorySample {
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly heapTotalMb: number;
}

/** Memory of one gateway process (one subgraph set, one round). */
export interface MemoryRecord {
  readonly round: number;
  readonly gateway: string;
  readonly set: string;
  readonly afterWarmup: MemorySample | undefined;
  readonly afterRun: MemorySample | undefined;
}

export interface SummaryRow {
  readonly gateway: string;
  readonly workload: string;
  readonly dedup: string;
  readonly rounds: number;
  readonly rps: number;
  readonly rpsPerRound: readonly number[];
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly socketErrors: number;
  readonly graphqlErrors: number;
  /** rps / baseline rps for the same workload, or undefined without a baseline row. */
  readonly ratio: number | undefined;
  /** Median over rounds of the gateway's CPU use, % of one core. */
  readonly gatewayCpuPct: number;
  /** Median over rounds of the time the gateway waited for its core (stolen by neighbours), %. */
  readonly gatewayStarvedPct: number;
  /** Responses per CPU-second of the gateway, over all rounds: robust to stolen CPU time. */
  readonly perCpuSecond: number;
  /** perCpuSecond / the baseline's. */
  readonly perCpuSecondRatio: number | undefined;
  /** Gateway CPU milliseconds per response (1000 / perCpuSecond): what a request costs, whatever the throughput. */
  readonly cpuMsPerRequest: number;
  /** Median over rounds of the busy share of the other core (subgraphs + load generator), % of one core. */
  readonly subgraphCorePct: number;
  /**
   * True when that core was saturated: the subgraphs and the load generator, not the gateway,
   * limited throughput, so req/s ratios understate the gateway (CPU per request does not).
   */
  readonly subgraphCoreSaturated: boolean;
  /** Set when no round produced figures. */
  readonly note: string | undefined;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summarize(
  measurements: readonly Measurement[],
  gateways: readonly string[],
  workloads: readonly string[],
  dedupOf: (gateway: string) => string,
  baseline: string,
): SummaryRow[] {
  const rows: SummaryRow[] = [];
  const baselineRps = new Map<string, number>();
  const baselinePerCpu = new Map<string, number>();
  for (const workload of workloads) {
    for (const gateway of gateways) {
      const mine = measurements.filter((m) => m.gateway === gateway && m.workload === workload);
      if (mine.length === 0) continue;
      const ok = mine.filter((m): m is Measurement & { stats: LoadStats } => m.status === 'ok' && m.stats !== undefined);
      const rpsPerRound = ok.map((m) => m.stats.rps);
      const pooled = new Float64Array(ok.reduce((n, m) => n + m.stats.latenciesMs.length, 0));
      let offset = 0;
      for (const m of ok) {
        pooled.set(m.stats.latenciesMs, offset);
        offset += m.stats.latenciesMs.length;
      }
      pooled.sort();
      const rps = median(rpsPerRound);
      const cpuS = ok.reduce((n, m) => n + (m.cpu?.gatewayCpuS ?? Number.NaN), 0);
      const perCpuSecond = ok.reduce((n, m) => n + m.stats.responses, 0) / cpuS;
      if (gateway === baseline && ok.length > 0) {
        baselineRps.set(workload, rps);
        baselinePerCpu.set(workload, perCpuSecond);
      }
      const failures = mine.filter((m) => m.status !== 'ok');
      rows.push({
        gateway,
        workload,
        dedup: dedupOf(gateway),
        rounds: ok.length,
        rps,
        rpsPerRound,
        p50Ms: percentile(pooled, 50),
        p95Ms: percentile(pooled, 95),
        p99Ms: percentile(pooled, 99),
        non2xx: ok.reduce((n, m) => n + m.stats.non2xx, 0),
        socketErrors: ok.reduce((n, m) => n + m.stats.socketErrors, 0),
        graphqlErrors: ok.reduce((n, m) => n + m.stats.graphqlErrors, 0),
        ratio: undefined,
        gatewayCpuPct: median(ok.map((m) => m.cpu?.gatewayPct ?? Number.NaN)),
        gatewayStarvedPct: median(ok.map((m) => m.cpu?.gatewayStarvedPct ?? Number.NaN)),
        perCpuSecond,
        perCpuSecondRatio: undefined,
        cpuMsPerRequest: 1000 / perCpuSecond,
        subgraphCorePct: median(ok.map((m) => (m.cpu ? m.cpu.subgraphsPct + m.cpu.loadGeneratorPct : Number.NaN))),
        subgraphCoreSaturated: median(ok.map((m) => (m.cpu ? m.cpu.subgraphsPct + m.cpu.loadGeneratorPct : Number.NaN))) >= SATURATED_CORE_PCT,
        note:
          failures.length === 0
            ? undefined
            : `${failures[0]?.status.toUpperCase()} in ${failures.length}/${mine.length} round(s): ${failures[0]?.message ?? ''}`,
      });
    }
  }
  return rows.map((r) => {
    const base = baselineRps.get(r.workload);
    const basePerCpu = baselinePerCpu.get(r.workload);
    return {
      ...r,
      ratio: base !== undefined && r.rounds > 0 ? r.rps / base : undefined,
      perCpuSecondRatio: basePerCpu !== undefined && r.rounds > 0 ? r.perCpuSecond / basePerCpu : undefined,
    };
  });
}

/**
 * The subgraphs' and load generator's core counts as saturated from this busy share on: past it,
 * they, not the gateway, set the pace (measured per phase from /proc, bench/lib/cpu.ts).
 */
export const SATURATED_CORE_PCT = 90;

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');

export function summaryTable(rows: readonly SummaryRow[], workloadLabel: (id: string) => string): string {
  const header =
    '| gateway | workload | dedup | req/s (median) | per round | p50 ms | p95 ms | p99 ms | non-2xx | GraphQL errors | ' +
    'req/s vs apollo-gateway-default | gateway CPU % (starved %) | req per gateway CPU-s (vs baseline) | gateway CPU ms per request | subgraph core busy % |';
  const lines = [header, '|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    if (r.rounds === 0) {
      lines.push(`| ${r.gateway} | ${workloadLabel(r.workload)} | ${r.dedup} | – | – | – | – | – | – | – | ${r.note ?? 'no data'} | – | – | – | – |`);
      continue;
    }
    const non2xx = r.socketErrors > 0 ? `${r.non2xx} (+${r.socketErrors} socket errors)` : String(r.non2xx);
    lines.push(
      `| ${r.gateway} | ${workloadLabel(r.workload)} | ${r.dedup} | **${fmt(r.rps)}** | ${r.rpsPerRound.map((x) => fmt(x)).join(' / ')} | ` +
        `${fmt(r.p50Ms, 1)} | ${fmt(r.p95Ms, 1)} | ${fmt(r.p99Ms, 1)} | ${non2xx} | ${r.graphqlErrors} | ` +
        `${r.ratio === undefined ? 'n/a' : `${fmt(r.ratio, 2)}×`}${r.note !== undefined ? ` ⚠ ${r.note}` : ''} | ` +
        `${fmt(r.gatewayCpuPct)} (${fmt(r.gatewayStarvedPct)}) | ${fmt(r.perCpuSecond)}${r.perCpuSecondRatio === undefined ? '' : ` (${fmt(r.perCpuSecondRatio, 2)}×)`} | ` +
        `${fmt(r.cpuMsPerRequest, 3)} | ${fmt(r.subgraphCorePct)}${r.subgraphCoreSaturated ? ' ⚑ saturated' : ''} |`,
    );
  }
  return lines.join('\n');
}

export function memoryTable(records: readonly MemoryRecord[]): string {
  const mb = (s: MemorySample | undefined, key: keyof MemorySample) => (s === undefined ? '–' : fmt(s[key]));
  const lines = [
    '| gateway | subgraphs | round | RSS after warm-up MB | RSS after run MB | heap used after warm-up MB | heap used after run MB |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of records) {
    lines.push(
      `| ${r.gateway} | ${r.set} | ${r.round} | ${mb(r.afterWarmup, 'rssMb')} | ${mb(r.afterRun, 'rssMb')} | ` +
        `${mb(r.afterWarmup, 'heapUsedMb')} | ${mb(r.afterRun, 'heapUsedMb')} |`,
    );
  }
  return lines.join('\n');
}

/** Distinct error bodies seen per gateway × workload, for the results' notes. */
export function errorSampleLines(measurements: readonly Measurement[]): string[] {
  const lines: string[] = [];
  for (const m of measurements) {
    for (const sample of m.stats?.errorSamples ?? []) {
      lines.push(`- ${m.gateway}, workload ${m.workload}, round ${m.round}: \`${sample.replace(/`/g, "'")}\``);
    }
  }
  return lines;
}

/** A LoadStats without the raw samples, for JSON output. */
export function statsForJson(stats: LoadStats | undefined): Omit<LoadStats, 'latenciesMs'> | undefined {
  if (stats === undefined) return undefined;
  const { latenciesMs: _samples, ...rest } = stats;
  return rest;
}
