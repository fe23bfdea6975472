import { Gauge, type Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast.ts';
import type { BreakerSnapshot, BreakerState, BreakerTransitionListener } from '../resilience/breakers.ts';
import type { FailureKind } from '../resilience/failures.ts';
import type { CallOutcome, SubgraphCallObserver } from '../subgraphs/types.ts';

/** Subgraph calls: 1 ms … 10 s; a healthy subgraph answers in ~1–50 ms, the timeout is 2 s. */
export const SUBGRAPH_DURATION_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const SUBGRAPH_OUTCOMES: readonly CallOutcome[] = ['success', 'connection', 'timeout', 'deadline', 'client_gone', 'circuit_open', 'bulkhead_full', 'http_5xx', 'http_4xx', 'bad_body', 'too_large'] satisfies readonly ('success' | FailureKind)[];

/** `portico_breaker_state` values: ordered so "higher is worse" on a graph. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, 0 | 1 | 2>> = {
  closed: 0,
  'forced-closed': 0,
  'half-open': 1,
  open: 2,
  'forced-open': 2,
};

/** Live values read at scrape time (see MetricsSources in ./index.ts). */
export interface SubgraphMetricsSources {
  breakers?: () => readonly BreakerSnapshot[];
  queryPlanCache?: () => { entries: number; sizeBytes: number };
}

/** Subgraph calls, the breakers in front of them and the query plans that make them. */
export interface SubgraphMetrics {
  /** Subgraph data-source hook (`DataSourceDeps.observer`). */
  readonly subgraphs: SubgraphCallObserver;
  /** Register with `breakers.onTransition`. */
  readonly onBreakerTransition: BreakerTransitionListener;
  /** The query-plan cache's `onLookup`. */
  onQueryPlanLookup(hit: boolean): void;
}

export function createSubgraphMetrics(registers: Registry[], sources: SubgraphMetricsSources): SubgraphMetrics {
  const subgraphDuration = new FastHistogram({
    name: 'portico_subgraph_request_duration_seconds',
    help: 'Wall time of subgraph calls that were sent (retries included), s.',
    labelNames: ['subgraph'] as const,
    buckets: SUBGRAPH_DURATION_BUCKETS_S,
    registers,
  });
  const subgraphRequests = new FastCounter({
    name: 'portico_subgraph_requests_total',
    help: 'Subgraph fetches of client operations, by outcome (success or the failure kind; circuit_open, bulkhead_full and deadline were never sent).',
    labelNames: ['subgraph', 'outcome'] as const,
    registers,
  });
  // Counted in a plain record and read at scrape time: a gauge's inc/dec per call went through
  // prom-client's label validation and hashing twice per subgraph fetch (eight times a page).
  const inFlight: Record<string, number> = Object.create(null);
  new Gauge({
    name: 'portico_subgraph_in_flight',
    help: 'Subgraph fetches of client operations in progress (deduplicated followers included).',
    labelNames: ['subgraph'] as const,
    registers,
    collect() {
      for (const subgraph in inFlight) this.set({ subgraph }, inFlight[subgraph]!);
    },
  });
  const bulkheadRejections = new FastCounter({
    name: 'portico_bulkhead_rejections_total',
    help: 'Subgraph fetches refused because the subgraph already had PORTICO_SUBGRAPH_MAX_INFLIGHT calls open.',
    labelNames: ['subgraph'] as const,
    registers,
  });
  const dedup = new FastCounter({
    name: 'portico_subgraph_dedup_total',
    help: 'Subgraph fetches that waited on an identical call already in flight (not sent), by the outcome they shared (success or the failure kind).',
    labelNames: ['subgraph', 'outcome'] as const,
    registers,
  });
  const retries = new FastCounter({
    name: 'portico_subgraph_retries_total',
    help: 'Subgraph query fetches retried after a connection failure (within the retry budget).',
    labelNames: ['subgraph'] as const,
    registers,
  });

  const planLookups = new FastCounter({
    name: 'portico_query_plan_cache_lookups_total',
    help: 'Query-plan cache lookups by result (hit: the plan was reused; miss: the operation was planned).',
    labelNames: ['result'] as const,
    registers,
  });
  const planHit = planLookups.labels({ result: 'hit' });
  const planMiss = planLookups.labels({ result: 'miss' });
  new Gauge({
    name: 'portico_query_plan_cache_entries',
    help: 'Query plans in the cache (cleared when a new supergraph loads).',
    registers,
    collect() {
      const c = sources.queryPlanCache?.();
      if (c) this.set(c.entries);
    },
  });
  new Gauge({
    name: 'portico_query_plan_cache_bytes',
    help: 'Approximate size of the cached query plans (JSON length), against PORTICO_QUERY_PLAN_CACHE_MB.',
    registers,
    collect() {
      const c = sources.queryPlanCache?.();
      if (c) this.set(c.sizeBytes);
    },
  });

  const breakerState = new Gauge({
    name: 'portico_breaker_state',
    help: 'Circuit breaker state per subgraph and field group: 0 closed, 1 half-open, 2 open (forced states count as open/closed).',
    labelNames: ['subgraph', 'key'] as const,
    registers,
    collect() {
      for (const b of sources.breakers?.() ?? []) this.set({ subgraph: b.subgraph, key: b.key }, BREAKER_STATE_VALUE[b.state]);
    },
  });
  new Gauge({
    name: 'portico_breaker_forced',
    help: '1 while an operator override holds the breaker open or closed (POST /admin/breakers), else 0.',
    labelNames: ['subgraph', 'key'] as const,
    registers,
    collect() {
      for (const b of sources.breakers?.() ?? []) this.set({ subgraph: b.subgraph, key: b.key }, b.state.startsWith('forced-') ? 1 : 0);
    },
  });
  const breakerTransitions = new FastCounter({
    name: 'portico_breaker_transitions_total',
    help: 'Circuit breaker state changes, by the state entered.',
    labelNames: ['subgraph', 'key', 'to'] as const,
    registers,
  });

  return {
    subgraphs: {
      started(subgraph) {
        inFlight[subgraph] = (inFlight[subgraph] ?? 0) + 1;
      },
      finished(subgraph, _key, outcome, seconds) {
        inFlight[subgraph] = (inFlight[subgraph] ?? 0) - 1;
        subgraphRequests.inc({ subgraph, outcome: SUBGRAPH_OUTCOMES.includes(outcome) ? outcome : 'connection' });
        // Calls never sent (breaker open, bulkhead full, no time left) have no latency to report.
        if (seconds > 0) subgraphDuration.observe({ subgraph }, seconds);
        if (outcome === 'bulkhead_full') bulkheadRejections.inc({ subgraph });
      },
      deduplicated(subgraph, outcome) {
        dedup.inc({ subgraph, outcome: SUBGRAPH_OUTCOMES.includes(outcome) ? outcome : 'connection' });
      },
      retried(subgraph) {
        retries.inc({ subgraph });
      },
    },
    onBreakerTransition({ subgraph, key, to }) {
      breakerTransitions.inc({ subgraph, key, to });
      breakerState.set({ subgraph, key }, BREAKER_STATE_VALUE[to]);
    },
    onQueryPlanLookup(hit) {
      (hit ? planHit : planMiss).inc();
    },
  };
}
