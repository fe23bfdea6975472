import type { GatewayConfig } from '@apollo/gateway';
import { LRUCache } from 'lru-cache';

/** The cache interface @apollo/gateway takes (`queryPlannerConfig.cache`), and what it stores. */
type QueryPlanCache = NonNullable<NonNullable<GatewayConfig['queryPlannerConfig']>['cache']>;
type QueryPlan = NonNullable<Awaited<ReturnType<QueryPlanCache['get']>>>;

/**
 * 50 MiB: @apollo/gateway's own default when fetch documents are kept in the plan (Portico keeps
 * them, so no data source parses per call). The product page's plan measures ~3 KB, the public
 * benchmark's ~12 KB: thousands of distinct operations fit, and a plan costs ~1-50 ms to rebuild.
 */
export const DEFAULT_QUERY_PLAN_CACHE_MB = 50;

export interface QueryPlanCacheOptions {
  /** Budget, MiB, measured as the plans' JSON length (Apollo's own approximation). */
  readonly maxMb: number;
}

export interface QueryPlanCacheDeps {
  /** Every lookup, for the hit-ratio metric. */
  onLookup?(hit: boolean): void;
}

/** The cache plus what the ops view reads. */
export interface PorticoQueryPlanCache extends QueryPlanCache {
  readonly entries: number;
  readonly sizeBytes: number;
}

/**
 * The gateway's query-plan cache. @apollo/gateway keys it by the operation's hash (sha256 of the
 * query text, with the operation name when one is given) and Portico's authorization plugin
 * folds the caller's permission set into that hash, so callers who see different fields never
 * share a plan. The gateway clears it whenever a new supergraph loads. Portico supplies its own
 * instance only to count hits and misses (`portico_query_plan_cache_lookups_total`) and to let
 * operators size it (`PORTICO_QUERY_PLAN_CACHE_MB`); the eviction policy (LRU by size) is the
 * one @apollo/gateway uses.
 */
export function createQueryPlanCache(options: QueryPlanCacheOptions, deps: QueryPlanCacheDeps = {}): PorticoQueryPlanCache {
  const lru = new LRUCache<string, QueryPlan>({
    maxSize: Math.max(1, Math.floor(options.maxMb * 2 ** 20)),
    // Computed once, when a plan is stored (a miss already paid for planning).
    sizeCalculation: (plan) => Math.max(1, Buffer.byteLength(JSON.stringify(plan))),
  });
  return {
    async get(key) {
      const plan = lru.get(key);
      deps.onLookup?.(plan !== undefined);
      return plan;
    },
    async set(key, value) {
      lru.set(key, value);
    },
    async delete(key) {
      return lru.delete(key);
    },
    clear() {
      lru.clear();
    },
    get entries() {
      return lru.size;
    },
    get sizeBytes() {
      return lru.calculatedSize;
    },
  };
}
