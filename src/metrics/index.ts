import { collectDefaultMetrics, type Registry } from 'prom-client';
import type { BreakerSnapshot } from '../resilience/breakers.ts';
import type { CacheObserver } from '../cache/index.ts';
import { createCacheMetrics } from './cache.ts';
import { createControlPlaneMetrics, type ControlPlaneMetrics } from './controlPlane.ts';
import { createOperationMetrics, type OperationMetrics } from './operations.ts';
import { createRateLimitMetrics, createRateLimitQueueMetrics } from './rateLimit.ts';
import { createOverloadMetrics } from './overload.ts';
import type { OverloadMetrics } from '../overload/gate.ts';
import type { RateLimitQueueMetrics } from '../rateLimit/queue.ts';
import type { RateLimiterMetrics } from '../rateLimit/types.ts';
import { createRequestMetrics, KNOWN_ERROR_CODES, type RequestMetrics } from './requests.ts';
import { createSubgraphMetrics, type SubgraphMetrics } from './subgraphs.ts';
import { createProbeMetrics, type ProbeMetrics } from './probes.ts';

export { MAX_TIER_LABELS, rateLimitDecisionLabel, type RateLimitDecisionLabel } from './rateLimit.ts';

/**
 * Every metric Portico exports, declared in this folder and nowhere else (one file per concern), on a registry the caller owns
 * (one per gateway instance, so tests running several instances in one process never collide).
 * Names are snake_case with unit suffixes; every label has a bounded set of values:
 * `subgraph` and `key` come from the supergraph, `outcome`/`to`/`mode`/`status_class`/
 * `operation_type` from fixed unions, `code` from the known error codes (else `OTHER`) and
 * `tier` from the rate-limit policy set (capped). Operation names, user ids, tokens and query
 * text are never labels: they go to the access log.
 */

export interface MetricsOptions {
  /** Also collect Node's process metrics (CPU, memory, event loop, GC). Default true. */
  readonly defaultMetrics?: boolean;
  /** Error codes to count under their own name besides the known ones (./requests.ts). */
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

export interface PorticoMetrics extends RequestMetrics, SubgraphMetrics, OperationMetrics, ControlPlaneMetrics, ProbeMetrics {
  readonly registry: Registry;
  /** The `metrics` dep of `createRateLimiter`. */
  readonly rateLimit: RateLimiterMetrics;
  /** The `metrics` dep of `createRateLimitQueue`. */
  readonly rateLimitQueue: RateLimitQueueMetrics;
  /** The `metrics` dep of `createOverloadGate`. */
  readonly overload: OverloadMetrics;
  /** The `observer` dep of `createCache`. */
  readonly cache: CacheObserver;
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
  const requests = createRequestMetrics(registers, knownCodes, () => sources.ready?.() ?? false);
  const operations = createOperationMetrics(registers);
  const subgraphs = createSubgraphMetrics(registers, sources);
  const controlPlane = createControlPlaneMetrics(registers);
  const rateLimit = createRateLimitMetrics(registers);
  const rateLimitQueue = createRateLimitQueueMetrics(registers);
  const overload = createOverloadMetrics(registers);
  const cache = createCacheMetrics(registers);
  const probes = createProbeMetrics(registers);
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  return {
    registry,
    ...requests,
    ...operations,
    ...subgraphs,
    ...controlPlane,
    ...probes,
    rateLimit,
    rateLimitQueue,
    overload,
    cache,
    bind(next) {
      Object.assign(sources, next);
    },
  };
}
