import { createHash } from 'node:crypto';

/**
 * The canary's pure logic: which lane a request goes to, what each lane's requests looked like,
 * and whether the canary is promoted, rolled back or still watched. No clock, no I/O: the control
 * plane feeds it outcomes and the time.
 */

export type Lane = 'stable' | 'canary';

/** Share of requests a new supergraph serves first, percent. Small enough that a broken one hurts few. */
export const DEFAULT_CANARY_PERCENT = 5;
/** Canary requests needed before any decision: below this an error rate is noise. */
export const DEFAULT_CANARY_MIN_REQUESTS = 50;
/** A healthy canary is promoted after this long watching it, ms; a worse one is rolled back as soon as it is seen. */
export const DEFAULT_CANARY_WINDOW_MS = 60_000;
/** The canary may fail this many percentage points more requests than the stable lane. */
export const DEFAULT_CANARY_MAX_ERROR_DELTA_PERCENT = 2;
/** The canary's p99 may exceed the stable one's by this share, percent (plus {@link CANARY_P99_SLACK_MS}). */
export const DEFAULT_CANARY_MAX_P99_INCREASE_PERCENT = 50;
/** Absolute p99 slack, ms: at a 5 ms stable p99, 50 % is 2.5 ms of scheduler noise, not a regression. */
export const CANARY_P99_SLACK_MS = 25;
/** Samples each lane needs before its p99 is compared: at 100 the p99 is the second-worst, not the worst. */
export const LATENCY_MIN_SAMPLES = 100;
/** Latency samples kept per lane for the p99 (the most recent ones). */
export const LATENCY_SAMPLES = 2_000;

export interface CanaryPolicy {
  /** 0 switches the canary off: a new supergraph serves every request at once (today's behaviour). */
  readonly percent: number;
  readonly minRequests: number;
  readonly windowMs: number;
  readonly maxErrorDeltaPercent: number;
  readonly maxP99IncreasePercent: number;
}

/** One finished request as the canary sees it. */
export interface RequestOutcome {
  /** HTTP status of the answer. */
  readonly status: number;
  /** Codes of the GraphQL errors in the answer (`extensions.code`), empty when none. */
  readonly errorCodes: readonly string[];
  /** Degraded fetches (fields turned null or stale). */
  readonly degraded: number;
  readonly durationMs: number;
}

export interface LaneStats {
  requests: number;
  /** Requests with any GraphQL error, a degraded field or a 5xx. */
  failed: number;
  /** Error count by code (`HTTP_5XX` and `DEGRADED` included), for the status view and the log. */
  byCode: Record<string, number>;
  /** Most recent latencies, ms (a ring of {@link LATENCY_SAMPLES}). */
  latencies: number[];
}

export function emptyLaneStats(): LaneStats {
  return { requests: 0, failed: 0, byCode: {}, latencies: [] };
}

/**
 * Codes that are part of a protocol, not a failure: an APQ hash the server has not seen yet is
 * answered with this and the client re-sends the query. Neither lane's schema is to blame.
 */
export const NOT_FAILURES: ReadonlySet<string> = new Set(['PERSISTED_QUERY_NOT_FOUND']);

/** Whether an outcome counts against its lane: any GraphQL error (but {@link NOT_FAILURES}), a degraded field, a 5xx. */
export function isFailure(o: RequestOutcome): boolean {
  return o.status >= 500 || o.degraded > 0 || o.errorCodes.some((c) => !NOT_FAILURES.has(c));
}

/** Adds one outcome to a lane's stats (mutates `stats`; the control plane owns it). */
export function recordOutcome(stats: LaneStats, o: RequestOutcome): void {
  stats.requests++;
  if (isFailure(o)) stats.failed++;
  const codes = new Set(o.errorCodes.filter((c) => !NOT_FAILURES.has(c)));
  if (o.status >= 500) codes.add('HTTP_5XX');
  if (o.degraded > 0) codes.add('DEGRADED');
  for (const code of codes) stats.byCode[code] = (stats.byCode[code] ?? 0) + 1;
  if (stats.latencies.length >= LATENCY_SAMPLES) stats.latencies.shift();
  stats.latencies.push(o.durationMs);
}

/** Nearest-rank percentile of `values`, ms; undefined when empty. */
/** A lane as `/status` and the decision log show it. */
export interface LaneSummary {
  requests: number;
  failed: number;
  errorRate: number;
  p99Ms: number | null;
  byCode: Record<string, number>;
}

export function laneSummary(s: LaneStats): LaneSummary {
  return { requests: s.requests, failed: s.failed, errorRate: s.requests ? s.failed / s.requests : 0, p99Ms: percentile(s.latencies, 99) ?? null, byCode: { ...s.byCode } };
}

export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export type CanaryVerdict =
  | { readonly decision: 'wait'; readonly reason: string }
  | { readonly decision: 'promote'; readonly reason: string }
  | { readonly decision: 'rollback'; readonly reason: string };

/**
 * Compares the canary with the stable lane over the same period. Rolls back as soon as the
 * canary has `minRequests` and fails more requests beyond the margin: waiting out the window
 * would only hurt more requests. At the end of the window, with {@link LATENCY_MIN_SAMPLES} on
 * both lanes, a p99 beyond its margin rolls back too; otherwise the canary is promoted.
 */
export function judgeCanary(stable: LaneStats, canary: LaneStats, elapsedMs: number, policy: CanaryPolicy): CanaryVerdict {
  if (canary.requests < policy.minRequests) {
    return { decision: 'wait', reason: `${canary.requests} of ${policy.minRequests} canary requests` };
  }
  const stableRate = stable.requests === 0 ? 0 : stable.failed / stable.requests;
  const canaryRate = canary.failed / canary.requests;
  const deltaPoints = (canaryRate - stableRate) * 100;
  if (deltaPoints > policy.maxErrorDeltaPercent) {
    return {
      decision: 'rollback',
      reason: `canary failed ${pct(canaryRate)} of ${canary.requests} requests (${topCodes(canary)}) against ${pct(stableRate)} on stable; margin ${policy.maxErrorDeltaPercent} points`,
    };
  }
  if (elapsedMs < policy.windowMs) return { decision: 'wait', reason: `healthy so far; watching for ${policy.windowMs} ms` };
  // Latency is judged once, at the end of the window, and only on enough samples: a canary's
  // first requests plan every operation afresh, and the p99 of a few dozen samples is their max.
  const stableP99 = percentile(stable.latencies, 99);
  const canaryP99 = percentile(canary.latencies, 99);
  if (stableP99 !== undefined && canaryP99 !== undefined && Math.min(stable.latencies.length, canary.latencies.length) >= LATENCY_MIN_SAMPLES) {
    const limit = stableP99 * (1 + policy.maxP99IncreasePercent / 100) + CANARY_P99_SLACK_MS;
    if (canaryP99 > limit) {
      return { decision: 'rollback', reason: `canary p99 ${canaryP99.toFixed(1)} ms above ${limit.toFixed(1)} ms (stable p99 ${stableP99.toFixed(1)} ms + ${policy.maxP99IncreasePercent} % + ${CANARY_P99_SLACK_MS} ms)` };
    }
  }
  return { decision: 'promote', reason: `healthy over ${Math.round(elapsedMs / 1000)} s: ${pct(canaryRate)} failed on canary, ${pct(stableRate)} on stable, p99 ${fmt(canaryP99)} vs ${fmt(stableP99)} ms` };
}

/**
 * Which lane a request takes. With a client key (the caller's subject) the choice is sticky for
 * that client and this canary: sha256(canary hash + key) mod 10 000 against the share. Without
 * one, `random` decides per request.
 */
export function laneFor(percent: number, canaryHash: string, clientKey: string | undefined, random: () => number = Math.random): Lane {
  if (percent <= 0) return 'stable';
  if (clientKey === undefined) return random() * 100 < percent ? 'canary' : 'stable';
  const bucket = createHash('sha256').update(canaryHash).update('\0').update(clientKey).digest().readUInt32BE(0) % 10_000;
  return bucket < percent * 100 ? 'canary' : 'stable';
}

function pct(rate: number): string {
  return `${(rate * 100).toFixed(1)} %`;
}

function fmt(v: number | undefined): string {
  return v === undefined ? '–' : v.toFixed(1);
}

function topCodes(s: LaneStats): string {
  const top = Object.entries(s.byCode).sort((a, b) => b[1] - a[1]).slice(0, 3);
  return top.length === 0 ? 'no codes' : top.map(([c, n]) => `${c} ×${n}`).join(', ');
}
