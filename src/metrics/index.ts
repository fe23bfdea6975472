import { ApolloServerErrorCode } from '@apollo/server/errors';
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { JwksFetchOutcome } from '../auth/jwks.ts';
import { codesOn } from '../errors/catalogue.ts';
import type { CostMode } from '../hardening/index.ts';
import type { CostMetrics } from '../hardening/plugin.ts';
import type { RateLimiterMetrics, RateLimiterMode, RateLimitResult } from '../rateLimit/limiter.ts';
import type { BreakerSnapshot, BreakerState, BreakerTransitionListener } from '../resilience/breakers.ts';
import type { FailureKind } from '../resilience/failures.ts';
import type { CallOutcome, SubgraphCallObserver } from '../subgraphs/dataSource.ts';
import type { TrustedDocumentOutcome } from '../context.ts';
import type { TrustedDocumentsLoadOutcome, TrustedDocumentsMetrics } from '../trustedDocuments/index.ts';
import { cappedLabel, statusClass, type OperationTypeLabel } from './labels.ts';

export { operationTypeLabel, statusClass, type OperationTypeLabel } from './labels.ts';

/**
 * Every metric Portico exports, declared here and nowhere else, on a registry the caller owns
 * (one per gateway instance, so tests running several instances in one process never collide).
 * Names are snake_case with unit suffixes; every label has a bounded set of values:
 * `subgraph` and `key` come from the supergraph, `outcome`/`to`/`mode`/`status_class`/
 * `operation_type` from fixed unions, `code` from the known error codes (else `OTHER`) and
 * `tier` from the rate-limit policy set (capped). Operation names, user ids, tokens and query
 * text are never labels: they go to the access log.
 */

// Histogram buckets, s. Each set spans what its thing can take, with resolution where SLOs sit.
/** Client requests: 5 ms … 10 s; the request deadline is 5 s by default, so +Inf means "broken". */
export const HTTP_DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Subgraph calls: 1 ms … 10 s; a healthy subgraph answers in ~1–50 ms, the timeout is 2 s. */
export const SUBGRAPH_DURATION_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Redis bucket updates: 0.25 ms … 100 ms; the command budget is 50 ms. */
export const REDIS_DURATION_BUCKETS_S = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];
/**
 * Operation cost, in the estimator's unit (objects, see src/hardening/cost.ts): 1 … 1,000,000.
 * The demo's pages are 4–240, the public benchmark's TestQuery 23,315, the default limit 100,000.
 */
export const COST_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000];
/**
 * Estimate ÷ actual: 1 is exact, and the model is an upper bound, so most operations land above
 * 1; a median far above it means lists are smaller than assumed (lower PORTICO_COST_LIST_SIZE),
 * values below 1 that lists are larger (raise it, or add `@listSize`).
 */
export const COST_RATIO_BUCKETS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100, 1_000];
/** Subgraph fetches of one operation: a product page makes 4, the public benchmark's query ~10. */
export const SUBGRAPH_FETCH_BUCKETS = [0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100];
/**
 * Distinct rate-limit tiers kept as label values; later ones count as `other`. Tiers come from
 * the policy set (3 built in), but runtime overrides may add some: this bounds the worst case.
 */
export const MAX_TIER_LABELS = 32;

/** Label value for error codes outside {@link KNOWN_ERROR_CODES}. */
export const OTHER_CODE = 'OTHER';

/** Error codes counted under their own name: the catalogue's GraphQL ones, Apollo Server's. */
export const KNOWN_ERROR_CODES: ReadonlySet<string> = new Set([...codesOn('graphql'), ...Object.values(ApolloServerErrorCode)]);

const SUBGRAPH_OUTCOMES: readonly CallOutcome[] = ['success', 'connection', 'timeout', 'deadline', 'client_gone', 'circuit_open', 'bulkhead_full', 'http_5xx', 'http_4xx', 'bad_body', 'too_large'] satisfies readonly ('success' | FailureKind)[];
const RELOAD_OUTCOMES = ['success', 'failure', 'unchanged'] as const;
const JWKS_OUTCOMES: readonly JwksFetchOutcome[] = ['success', 'failure', 'stale'];
const COST_MODES: readonly CostMode[] = ['measure', 'enforce'];
const TRUSTED_OUTCOMES: readonly TrustedDocumentOutcome[] = ['listed', 'unlisted', 'refused', 'bypass'];
const TRUSTED_LOAD_OUTCOMES: readonly TrustedDocumentsLoadOutcome[] = ['success', 'failure', 'unchanged'];
const LIMITER_MODES: readonly RateLimiterMode[] = ['redis', 'local-fallback', 'memory'];

/** `portico_breaker_state` values: ordered so "higher is worse" on a graph. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, 0 | 1 | 2>> = {
  closed: 0,
  'forced-closed': 0,
  'half-open': 1,
  open: 2,
  'forced-open': 2,
};

/** `decision` label of `portico_ratelimit_decisions_total`. */
export type RateLimitDecisionLabel = 'allowed' | 'rejected' | 'unavailable';

export function rateLimitDecisionLabel(result: Pick<RateLimitResult, 'allowed' | 'rejection'>): RateLimitDecisionLabel {
  if (result.allowed) return 'allowed';
  return result.rejection === 'limiter-unavailable' ? 'unavailable' : 'rejected';
}

export interface MetricsOptions {
  /** Also collect Node's process metrics (CPU, memory, event loop, GC). Default true. */
  readonly defaultMetrics?: boolean;
  /** Error codes to count under their own name besides {@link KNOWN_ERROR_CODES}. */
  readonly extraErrorCodes?: readonly string[];
}

/** Live values read at scrape time rather than pushed (so a scrape never shows a stale state). */
export interface MetricsSources {
  /** Every breaker this instance has, with its state. */
  breakers?: () => readonly BreakerSnapshot[];
  /** True while the instance accepts traffic (lifecycle `ready`). */
  ready?: () => boolean;
  /** Query plans cached and their approximate size. */
  queryPlanCache?: () => { entries: number; sizeBytes: number };
}

export interface PorticoMetrics {
  readonly registry: Registry;
  /** Called once per client HTTP request the gateway answered (the access-log hook). */
  readonly http: { onResponse(statusCode: number, operationType: OperationTypeLabel, seconds: number): void };
  readonly graphql: {
    /** A GraphQL operation was resolved (parsed, validated, named). */
    onOperation(operationType: OperationTypeLabel): void;
    /** One error in a response; unknown codes are counted as `OTHER`. */
    onError(code: string | undefined): void;
  };
  /** Subgraph data-source hook (`DataSourceDeps.observer`). */
  readonly subgraphs: SubgraphCallObserver;
  /** Register with `breakers.onTransition`. */
  readonly onBreakerTransition: BreakerTransitionListener;
  /** The `metrics` dep of `createRateLimiter`. */
  readonly rateLimit: RateLimiterMetrics;
  /** The `onJwksFetch` dep of the token verifier. */
  onJwksFetch(outcome: JwksFetchOutcome): void;
  /** The supergraph manager's `onReload`. */
  onSupergraphReload(outcome: 'success' | 'failure' | 'unchanged'): void;
  /** The query-plan cache's `onLookup`. */
  onQueryPlanLookup(hit: boolean): void;
  /** The hardening plugin's `metrics`: estimated and actual operation cost. */
  readonly cost: CostMetrics;
  /** The trusted documents plugin's `metrics`. */
  readonly trustedDocuments: TrustedDocumentsMetrics;
  /** Connects the scrape-time sources; later calls replace earlier ones. */
  bind(sources: MetricsSources): void;
}

/**
 * Declares every metric on `registry` and returns the hooks the other modules call. Hooks are
 * cheap (a label lookup and an add) and never throw into the caller's path.
 */
export function createMetrics(registry: Registry, options: MetricsOptions = {}): PorticoMetrics {
  const registers = [registry];
  const sources: MetricsSources = {};
  const knownCodes = new Set([...KNOWN_ERROR_CODES, ...(options.extraErrorCodes ?? [])]);
  const tierLabel = cappedLabel(MAX_TIER_LABELS, 'other');

  // --- gateway, HTTP and GraphQL ---
  const httpRequests = new Counter({
    name: 'portico_http_requests_total',
    help: 'Client HTTP requests answered, by status class and GraphQL operation type (none: not a GraphQL operation or refused before parsing).',
    labelNames: ['status_class', 'operation_type'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'portico_http_request_duration_seconds',
    help: 'Time from the first byte of a client request to the last byte of its answer, s.',
    labelNames: ['operation_type'] as const,
    buckets: HTTP_DURATION_BUCKETS_S,
    registers,
  });
  const operations = new Counter({
    name: 'portico_graphql_operations_total',
    help: 'GraphQL operations resolved (parsed and validated), by operation type.',
    labelNames: ['operation_type'] as const,
    registers,
  });
  const errors = new Counter({
    name: 'portico_graphql_errors_total',
    help: 'Errors in GraphQL responses, by extensions.code (codes outside the known set count as OTHER).',
    labelNames: ['code'] as const,
    registers,
  });
  new Gauge({
    name: 'portico_ready',
    help: '1 while this instance accepts traffic (lifecycle ready), else 0 (starting, draining, stopped).',
    registers,
    collect() {
      this.set(sources.ready?.() ? 1 : 0);
    },
  });

  // --- operation cost (estimate before planning, actual after execution) ---
  const costEstimated = new Histogram({
    name: 'portico_operation_cost_estimated_objects',
    help: 'Estimated cost of operations (objects the answer may hold, @cost weights applied), refused ones included.',
    buckets: COST_BUCKETS,
    registers,
  });
  const costActual = new Histogram({
    name: 'portico_operation_cost_actual_objects',
    help: 'Actual cost of executed operations: objects in the answer (plus 10 for a mutation).',
    buckets: COST_BUCKETS,
    registers,
  });
  const costRatio = new Histogram({
    name: 'portico_operation_cost_estimate_ratio',
    help: 'Estimated ÷ actual cost of executed operations whose answer holds an object: 1 is exact, above 1 the estimate was pessimistic.',
    buckets: COST_RATIO_BUCKETS,
    registers,
  });
  const fetchesPerOperation = new Histogram({
    name: 'portico_operation_subgraph_fetches',
    help: 'Subgraph fetches made by one executed operation (deduplicated ones included).',
    buckets: SUBGRAPH_FETCH_BUCKETS,
    registers,
  });
  const overCost = new Counter({
    name: 'portico_operation_cost_over_limit_total',
    help: 'Operations estimated above PORTICO_MAX_COST, by PORTICO_COST_MODE (enforce: refused with QUERY_TOO_COMPLEX; measure: served).',
    labelNames: ['mode'] as const,
    registers,
  });

  // --- trusted documents ---
  const trustedRequests = new Counter({
    name: 'portico_trusted_documents_requests_total',
    help: 'Operations checked against the trusted documents list, by outcome (listed; unlisted: ran in log mode; refused: enforce mode; bypass: ran for a caller with the bypass scope).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const trustedLoads = new Counter({
    name: 'portico_trusted_documents_loads_total',
    help: 'Trusted documents list loads, by outcome (failure: rejected, the last good list keeps serving).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const trustedOperations = new Gauge({
    name: 'portico_trusted_documents_operations',
    help: 'Operations in the trusted documents list currently served.',
    registers,
  });

  // --- subgraphs ---
  const subgraphDuration = new Histogram({
    name: 'portico_subgraph_request_duration_seconds',
    help: 'Wall time of subgraph calls that were sent (retries included), s.',
    labelNames: ['subgraph'] as const,
    buckets: SUBGRAPH_DURATION_BUCKETS_S,
    registers,
  });
  const subgraphRequests = new Counter({
    name: 'portico_subgraph_requests_total',
    help: 'Subgraph fetches of client operations, by outcome (success or the failure kind; circuit_open, bulkhead_full and deadline were never sent).',
    labelNames: ['subgraph', 'outcome'] as const,
    registers,
  });
  const subgraphInFlight = new Gauge({
    name: 'portico_subgraph_in_flight',
    help: 'Subgraph fetches of client operations in progress (deduplicated followers included).',
    labelNames: ['subgraph'] as const,
    registers,
  });
  const bulkheadRejections = new Counter({
    name: 'portico_bulkhead_rejections_total',
    help: 'Subgraph fetches refused because the subgraph already had PORTICO_SUBGRAPH_MAX_INFLIGHT calls open.',
    labelNames: ['subgraph'] as const,
    registers,
  });
  const dedup = new Counter({
    name: 'portico_subgraph_dedup_total',
    help: 'Subgraph fetches that waited on an identical call already in flight (not sent), by the outcome they shared (success or the failure kind).',
    labelNames: ['subgraph', 'outcome'] as const,
    registers,
  });
  const retries = new Counter({
    name: 'portico_subgraph_retries_total',
    help: 'Subgraph query fetches retried after a connection failure (within the retry budget).',
    labelNames: ['subgraph'] as const,
    registers,
  });

  // --- query planning ---
  const planLookups = new Counter({
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

  // --- breakers ---
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
  const breakerTransitions = new Counter({
    name: 'portico_breaker_transitions_total',
    help: 'Circuit breaker state changes, by the state entered.',
    labelNames: ['subgraph', 'key', 'to'] as const,
    registers,
  });

  // --- rate limiting and Redis ---
  const rlDecisions = new Counter({
    name: 'portico_ratelimit_decisions_total',
    help: 'Rate-limit decisions, by tier and decision (allowed, rejected over quota, unavailable: limiter could not decide and failMode is closed).',
    labelNames: ['tier', 'decision'] as const,
    registers,
  });
  const rlMode = new Gauge({
    name: 'portico_ratelimit_mode',
    help: 'Rate limiter mode: 1 for the current one (redis: shared; local-fallback: Redis unreachable, per-instance limits; memory: no Redis configured).',
    labelNames: ['mode'] as const,
    registers,
  });
  const redisDuration = new Histogram({
    name: 'portico_redis_command_duration_seconds',
    help: 'Duration of rate-limit bucket updates sent to Redis (successful or not), s.',
    buckets: REDIS_DURATION_BUCKETS_S,
    registers,
  });
  const redisErrors = new Counter({
    name: 'portico_redis_errors_total',
    help: 'Rate-limit bucket updates that failed or exceeded their time budget.',
    registers,
  });

  // --- control plane ---
  const reloads = new Counter({
    name: 'portico_supergraph_reloads_total',
    help: 'Supergraph reload attempts, by outcome (failure: rejected, the last good one keeps serving).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const jwks = new Counter({
    name: 'portico_jwks_fetches_total',
    help: 'JWKS fetches from the identity provider, by outcome (stale: a failed fetch answered from the last good keys).',
    labelNames: ['outcome'] as const,
    registers,
  });

  // Series that alerts use with increase()/== 1 exist from the start at 0, so a first event is
  // an increase and an absent limiter reads as "not in fallback" rather than "no data".
  for (const outcome of RELOAD_OUTCOMES) reloads.inc({ outcome }, 0);
  for (const outcome of JWKS_OUTCOMES) jwks.inc({ outcome }, 0);
  for (const mode of LIMITER_MODES) rlMode.set({ mode }, 0);
  for (const mode of COST_MODES) overCost.inc({ mode }, 0);
  redisErrors.inc(0);

  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  return {
    registry,
    http: {
      onResponse(statusCode, operationType, seconds) {
        httpRequests.inc({ status_class: statusClass(statusCode), operation_type: operationType });
        httpDuration.observe({ operation_type: operationType }, seconds);
      },
    },
    graphql: {
      onOperation(operationType) {
        operations.inc({ operation_type: operationType });
      },
      onError(code) {
        errors.inc({ code: code !== undefined && knownCodes.has(code) ? code : OTHER_CODE });
      },
    },
    subgraphs: {
      started(subgraph) {
        subgraphInFlight.inc({ subgraph });
      },
      finished(subgraph, _key, outcome, seconds) {
        subgraphInFlight.dec({ subgraph });
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
    rateLimit: {
      onDecision(tier, decision) {
        rlDecisions.inc({ tier: tierLabel(tier), decision: rateLimitDecisionLabel(decision) });
      },
      onModeChange(mode) {
        for (const m of LIMITER_MODES) rlMode.set({ mode: m }, m === mode ? 1 : 0);
      },
      onRedisCommand(seconds, ok) {
        redisDuration.observe(seconds);
        if (!ok) redisErrors.inc();
      },
    },
    onJwksFetch(outcome) {
      jwks.inc({ outcome: JWKS_OUTCOMES.includes(outcome) ? outcome : 'failure' });
    },
    onSupergraphReload(outcome) {
      reloads.inc({ outcome });
    },
    onQueryPlanLookup(hit) {
      (hit ? planHit : planMiss).inc();
    },
    cost: {
      onEstimate(estimated, overLimit, mode) {
        costEstimated.observe(estimated);
        if (overLimit) overCost.inc({ mode });
      },
      onActual(estimated, actual, subgraphFetches) {
        costActual.observe(actual);
        fetchesPerOperation.observe(subgraphFetches);
        // An answer without objects (null, empty lists, scalars only) has no ratio to speak of.
        if (actual > 0) costRatio.observe(estimated / actual);
      },
    },
    trustedDocuments: {
      onRequest(outcome) {
        trustedRequests.inc({ outcome: TRUSTED_OUTCOMES.includes(outcome) ? outcome : 'refused' });
      },
      onLoad(outcome, operations) {
        trustedLoads.inc({ outcome: TRUSTED_LOAD_OUTCOMES.includes(outcome) ? outcome : 'failure' });
        if (outcome === 'success') trustedOperations.set(operations);
      },
    },
    bind(next) {
      Object.assign(sources, next);
    },
  };
}
