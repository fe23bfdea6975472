/**
 * One load phase with autocannon's programmatic API: a fixed number of connections, each sending
 * the next request as soon as the previous answer arrives (closed loop, no pipelining).
 *
 * Beyond autocannon's own summary it records every response's latency (autocannon reports p97.5,
 * not p95) and scans every body for a top-level `"errors"` key, so a 200 carrying GraphQL errors
 * is counted rather than mistaken for success.
 */
import autocannon from 'autocannon';

/** Per-request timeout, in seconds: a request slower than this counts as a timeout error. */
const REQUEST_TIMEOUT_S = 10;

export interface LoadOptions {
  url: string;
  connections: number;
  /** Run for this many seconds… */
  durationS?: number;
  /** …or until this many responses (exactly one of the two). */
  amount?: number;
  headers: Record<string, string>;
  /** The body of every request, when all requests are identical (cheapest for the generator). */
  fixedBody?: string;
  /** Otherwise, called once per request for its body. */
  nextBody?: () => string;
  /**
   * At most this many requests per second over all connections (autocannon's `overallRate`):
   * two variants compared at the same offered load, where closed-loop load would push the
   * faster one harder.
   */
  rate?: number;
}

export interface LoadStats {
  /** Wall time of the phase, s. */
  readonly durationS: number;
  /** Responses received (any status). */
  readonly responses: number;
  /** responses / durationS. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  /** 2xx or not, bodies with an `"errors"` key. */
  readonly graphqlErrors: number;
  /** Connection errors and timeouts (autocannon `errors`, which includes `timeouts`). */
  readonly socketErrors: number;
  readonly timeouts: number;
  /** Every latency sample, ms (kept to pool percentiles across rounds). */
  readonly latenciesMs: Float64Array;
  /** Up to {@link MAX_ERROR_SAMPLES} distinct bodies of failed responses (non-2xx or with errors), truncated. */
  readonly errorSamples: readonly string[];
}

const MAX_ERROR_SAMPLES = 3;
const ERROR_SAMPLE_CHARS = 300;

/** Nearest-rank percentile of an ascending-sorted array; NaN when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export async function runLoad(opts: LoadOptions): Promise<LoadStats> {
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let non2xx = 0;
  let graphqlErrors = 0;
  const errorSamples = new Set<string>();
  const onResponse = (status: number, body: string) => {
    const badStatus = status < 200 || status >= 300;
    if (badStatus) non2xx += 1;
    // A GraphQL response with errors has them at the top level; bodies here never contain the
    // quoted key anywhere else (checked by the golden answers, which must be error-free).
    const hasErrors = body.includes('"errors"');
    if (hasErrors) graphqlErrors += 1;
    if ((badStatus || hasErrors) && errorSamples.size < MAX_ERROR_SAMPLES) {
      const start = hasErrors ? body.indexOf('"errors"') : 0;
      errorSamples.add(`HTTP ${status} ${body.slice(start, start + ERROR_SAMPLE_CHARS)}`);
    }
  };
  const request: autocannon.Request =
    opts.nextBody !== undefined
      ? { method: 'POST', setupRequest: (req) => ({ ...req, body: (opts.nextBody as () => string)() }), onResponse }
      : { method: 'POST', body: opts.fixedBody ?? '', onResponse };

  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    pipelining: 1,
    timeout: REQUEST_TIMEOUT_S,
    headers: { 'content-type': 'application/json', ...opts.headers },
    requests: [request],
    ...(opts.amount !== undefined ? { amount: opts.amount } : { duration: opts.durationS ?? 10 }),
    ...(opts.rate !== undefined ? { overallRate: opts.rate } : {}),
    setupClient: (client) => {
      client.on('response', (_status: number, _bytes: number, responseTimeMs: number) => {
        if (count === latencies.length) {
          const grown = new Float64Array(latencies.length * 2);
          grown.set(latencies);
          latencies = grown;
        }
        latencies[count++] = responseTimeMs;
      });
    },
  });

  const samples = latencies.slice(0, count).sort();
  const durationS = result.duration > 0 ? result.duration : (opts.durationS ?? 1);
  return {
    durationS,
    responses: count,
    rps: count / durationS,
    p50Ms: percentile(samples, 50),
    p95Ms: percentile(samples, 95),
    p99Ms: percentile(samples, 99),
    non2xx,
    graphqlErrors,
    socketErrors: result.errors,
    timeouts: result.timeouts,
    latenciesMs: samples,
    errorSamples: [...errorSamples],
  };
}

/** One progress line's worth of a phase: req/s, p50 / p95 / p99 and, when any, the errors. */
export function describeLoad(stats: LoadStats): string {
  const errors = stats.non2xx + stats.socketErrors + stats.graphqlErrors;
  return (
    `${stats.rps.toFixed(0)} req/s, p50 ${stats.p50Ms.toFixed(1)} / p95 ${stats.p95Ms.toFixed(1)} / p99 ${stats.p99Ms.toFixed(1)} ms` +
    (errors > 0 ? `, ${stats.non2xx} non-2xx, ${stats.socketErrors} socket errors, ${stats.graphqlErrors} GraphQL errors` : '')
  );
}
