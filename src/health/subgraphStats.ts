import type { CallOutcome, SubgraphCallObserver } from '../subgraphs/types.ts';

/**
 * Per-subgraph health for the ops view: requests, error rate and latency percentiles over the
 * last 1 and 5 minutes, calls in flight, and the last error. Prometheus has the same facts over
 * any range; this answers "which subgraph hurts right now" from one instance, without a
 * Prometheus, in O(1) memory. Pure apart from the injected clock.
 *
 * Each subgraph keeps a ring of per-second buckets; each bucket holds counts and a fixed latency
 * histogram. Recording is a few array writes; percentiles are computed only when asked.
 */

/** Longest window reported, s: 5 minutes, the slower of the two views. */
export const STATS_WINDOW_S = 300;
/** The windows reported, s, and their names in the JSON. */
export const STATS_WINDOWS = { '1m': 60, '5m': 300 } as const;
/**
 * Latency bucket upper bounds, ms: roughly ×1.5 apart from 1 ms to 10 s, so an interpolated
 * percentile is within ~25 % of the truth anywhere a subgraph call can land (timeouts ≤ 10 s
 * by default). Slower calls fall in an overflow bucket reported as the last bound.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  1, 1.5, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1_000, 1_500, 2_000, 3_000, 5_000, 7_000, 10_000,
];
/** Most subgraphs tracked; a supergraph has a handful, this only bounds a misuse. */
export const MAX_TRACKED_SUBGRAPHS = 256;

const BUCKETS = LATENCY_BOUNDS_MS.length + 1;

export interface WindowStats {
  /** Fetches finished in the window (sent or refused by the breaker / bulkhead / deadline). */
  requests: number;
  /** Of those, not `success`. */
  errors: number;
  /** errors / requests, 0 when idle. */
  errorRate: number;
  /** Percentiles of the calls that were sent, ms; null when none were. */
  latencyMs: { p50: number; p95: number; p99: number } | null;
}

/** The most recent failure; a `circuit_open` rejection does not hide the failure before it. */
export interface LastError {
  /** ISO time. */
  at: string;
  /** Breaker key of the failed fetch, e.g. `pricing:Product`. */
  key: string;
  outcome: Exclude<CallOutcome, 'success'>;
  /** Client-safe reason (never a URL, address or body), e.g. "timed out after 300 ms". */
  reason: string;
}

export interface SubgraphStatsSnapshot {
  inFlight: number;
  windows: Record<keyof typeof STATS_WINDOWS, WindowStats>;
  lastError: LastError | null;
}

export interface SubgraphStats {
  /** Hook for the data source (combine it with the metrics observer). */
  readonly observer: SubgraphCallObserver;
  /** Subgraphs seen so far, sorted. */
  subgraphs(): string[];
  /** Stats of one subgraph; all zero when it has not been called yet. */
  snapshot(subgraph: string): SubgraphStatsSnapshot;
}

export interface SubgraphStatsOptions {
  /** Wall clock, ms. Default `Date.now`. */
  now?: () => number;
}

interface Ring {
  /** The epoch second each slot currently holds, -1 when empty. */
  second: Float64Array;
  requests: Uint32Array;
  errors: Uint32Array;
  /** `STATS_WINDOW_S × BUCKETS` counts. */
  latency: Uint32Array;
  inFlight: number;
  lastError: LastError | null;
}

/** Fallback reasons when the data source did not hand one over. */
const GENERIC_REASON: Record<Exclude<CallOutcome, 'success'>, string> = {
  connection: 'connection failed',
  timeout: 'timed out',
  deadline: 'request deadline reached',
  circuit_open: 'circuit open',
  bulkhead_full: 'too many concurrent requests',
  http_5xx: 'answered HTTP 5xx',
  http_4xx: 'answered HTTP 4xx',
  bad_body: 'answered with a body that is not a GraphQL response',
  too_large: 'answered more than the response size limit',
  client_gone: 'client went away',
};

export function createSubgraphStats(options: SubgraphStatsOptions = {}): SubgraphStats {
  const now = options.now ?? Date.now;
  const rings = new Map<string, Ring>();

  function ring(subgraph: string): Ring | undefined {
    let r = rings.get(subgraph);
    if (!r && rings.size < MAX_TRACKED_SUBGRAPHS) {
      r = {
        second: new Float64Array(STATS_WINDOW_S).fill(-1),
        requests: new Uint32Array(STATS_WINDOW_S),
        errors: new Uint32Array(STATS_WINDOW_S),
        latency: new Uint32Array(STATS_WINDOW_S * BUCKETS),
        inFlight: 0,
        lastError: null,
      };
      rings.set(subgraph, r);
    }
    return r;
  }

  /** The slot for `second`, cleared when it still holds an older second. */
  function slotFor(r: Ring, second: number): number {
    const slot = second % STATS_WINDOW_S;
    if (r.second[slot] !== second) {
      r.second[slot] = second;
      r.requests[slot] = 0;
      r.errors[slot] = 0;
      r.latency.fill(0, slot * BUCKETS, (slot + 1) * BUCKETS);
    }
    return slot;
  }

  function windowOf(r: Ring, nowSecond: number, windowS: number): WindowStats {
    let requests = 0;
    let errors = 0;
    const hist = new Array<number>(BUCKETS).fill(0);
    for (let slot = 0; slot < STATS_WINDOW_S; slot++) {
      const s = r.second[slot]!;
      if (s < 0 || s > nowSecond || s <= nowSecond - windowS) continue;
      requests += r.requests[slot]!;
      errors += r.errors[slot]!;
      for (let b = 0; b < BUCKETS; b++) hist[b]! += r.latency[slot * BUCKETS + b]!;
    }
    const sampled = hist.reduce((a, b) => a + b, 0);
    return {
      requests,
      errors,
      errorRate: requests === 0 ? 0 : errors / requests,
      latencyMs: sampled === 0 ? null : { p50: quantile(hist, sampled, 0.5), p95: quantile(hist, sampled, 0.95), p99: quantile(hist, sampled, 0.99) },
    };
  }

  const observer: SubgraphCallObserver = {
    started(subgraph) {
      const r = ring(subgraph);
      if (r) r.inFlight++;
    },
    finished(subgraph, key, outcome, seconds, _detail, reason) {
      const r = ring(subgraph);
      if (!r) return;
      r.inFlight = Math.max(0, r.inFlight - 1);
      const at = now();
      const slot = slotFor(r, Math.floor(at / 1_000));
      r.requests[slot]!++;
      if (seconds > 0) r.latency[slot * BUCKETS + bucketOf(seconds * 1_000)]!++;
      // A client that went away is no error of the subgraph's: counted as a request only.
      if (outcome !== 'success' && outcome !== 'client_gone') {
        r.errors[slot]!++;
        // An open breaker is already shown as such; keep the failure that opened it visible.
        if (outcome !== 'circuit_open' || !r.lastError) {
          r.lastError = { at: new Date(at).toISOString(), key, outcome, reason: reason ?? GENERIC_REASON[outcome] };
        }
      }
    },
  };

  return {
    observer,
    subgraphs: () => [...rings.keys()].sort(),
    snapshot(subgraph) {
      const r = rings.get(subgraph);
      const nowSecond = Math.floor(now() / 1_000);
      const empty: WindowStats = { requests: 0, errors: 0, errorRate: 0, latencyMs: null };
      return {
        inFlight: r?.inFlight ?? 0,
        windows: {
          '1m': r ? windowOf(r, nowSecond, STATS_WINDOWS['1m']) : empty,
          '5m': r ? windowOf(r, nowSecond, STATS_WINDOWS['5m']) : empty,
        },
        lastError: r?.lastError ?? null,
      };
    },
  };
}

/** Index of the latency bucket for `ms` (the overflow bucket past the last bound). */
export function bucketOf(ms: number): number {
  // 25 bounds: a linear scan beats a binary search at this size and is obviously right.
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (ms <= LATENCY_BOUNDS_MS[i]!) return i;
  return LATENCY_BOUNDS_MS.length;
}

/**
 * The q-quantile of a bucketed distribution, ms, interpolated linearly inside its bucket (as
 * Prometheus' histogram_quantile does). Values in the overflow bucket read as the last bound.
 */
export function quantile(hist: readonly number[], total: number, q: number): number {
  const rank = q * total;
  let cumulative = 0;
  for (let b = 0; b < hist.length; b++) {
    const count = hist[b]!;
    if (count > 0 && cumulative + count >= rank) {
      if (b >= LATENCY_BOUNDS_MS.length) return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
      const lower = b === 0 ? 0 : LATENCY_BOUNDS_MS[b - 1]!;
      const upper = LATENCY_BOUNDS_MS[b]!;
      return round1(lower + ((upper - lower) * (rank - cumulative)) / count);
    }
    cumulative += count;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
