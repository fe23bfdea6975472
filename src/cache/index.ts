import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '../logging/index.ts';
import type { RedisClient } from '../redis/index.ts';
import type { PorticoContext } from '../request/context.ts';
import { createFetchCache, type FetchCache } from './fetchCache.ts';
import { InvalidationMarks, type InvalidationTarget } from './invalidation.ts';
import { createInvalidationSync } from './invalidationSync.ts';
import { responseCacheControl, type PolicySettings } from './policy.ts';
import { createResponseCache } from './responseCache.ts';
import { createMemoryTier, createRedisTier } from './tiers.ts';
import type { CacheObserver, CacheStatus, CacheSubgraphStats } from './types.ts';
import { extend } from '../runtime/objects.ts';

export { DEFAULT_CACHE_STALE_IF_ERROR_S, DEFAULT_CACHE_SWR_S, parseCacheControl, freshnessOf, responseCacheControl } from './policy.ts';
export { DEFAULT_CACHE_L1_MAX_ENTRIES, DEFAULT_CACHE_L1_TTL_MS } from './tiers.ts';
export { DEFAULT_CACHE_RESPONSE_MAX_ENTRIES } from './responseCache.ts';
export type { CacheableFetch, FetchCache, FetchOutcome, Fetcher } from './fetchCache.ts';
export type { InvalidationTarget } from './invalidation.ts';
export type { CacheObserver, CacheStatus, CacheSubgraphStats } from './types.ts';

/**
 * The entity and response cache (issue 17): per-fetch values in a small in-process LRU in front
 * of Redis, fresh as the subgraphs' `Cache-Control` says (or configuration overrides), served
 * stale while refreshed and when a subgraph fails, invalidated by admin marks every instance
 * sees; whole answers to anonymous public queries kept in-process while every part is fresh
 * (`responseCache.ts`); and the `Cache-Control` of each GET response, computed from its parts.
 */
export interface CacheOptions extends PolicySettings {
  readonly enabled: boolean;
  readonly l1MaxEntries: number;
  /** With Redis, longest an instance keeps its own copy, ms. */
  readonly l1TtlMs: number;
  /** Whole answers kept per instance; 0: that level is off. */
  readonly responseMaxEntries: number;
  readonly commandTimeoutMs: number;
}

export interface CacheDeps {
  readonly logger: Logger;
  /** L2 and the invalidation channel; absent: L1 only, marks local. */
  readonly redis: RedisClient | undefined;
  readonly observer?: CacheObserver;
}

export interface Cache {
  /** Absent when the cache is off: the data source sends every fetch. */
  readonly fetchCache: FetchCache | undefined;
  /** Writes each GraphQL response's `Cache-Control`. */
  readonly plugin: ApolloServerPlugin<PorticoContext>;
  invalidate(target: InvalidationTarget): Promise<{ at: number; shared: boolean }>;
  status(): CacheStatus;
  stop(): Promise<void>;
}

export function createCache(options: CacheOptions, deps: CacheDeps): Cache {
  const counters = new Map<string, Omit<CacheSubgraphStats, 'hitRatio'>>();
  const of = (subgraph: string) => {
    let c = counters.get(subgraph);
    if (!c) counters.set(subgraph, (c = { hits: 0, stale: 0, misses: 0, staleIfError: 0 }));
    return c;
  };
  const outer = deps.observer;
  const observer: CacheObserver = {
    lookup(subgraph, type, result, count) {
      const c = of(subgraph);
      if (result === 'hit') c.hits += count;
      else if (result === 'stale') c.stale += count;
      else c.misses += count;
      outer?.lookup(subgraph, type, result, count);
    },
    staleIfError(subgraph, type) {
      of(subgraph).staleIfError++;
      outer?.staleIfError(subgraph, type);
    },
    revalidation: (s, t, o) => outer?.revalidation(s, t, o),
    stored: (s, t, b) => outer?.stored(s, t, b),
    sharedError: (s) => outer?.sharedError(s),
    response(result) {
      if (result === 'hit') responseCounts.hits++;
      else responseCounts.misses++;
      outer?.response(result);
    },
  };
  const responseCounts = { hits: 0, misses: 0 };
  const marks = new InvalidationMarks();
  const maxEntryLifeMs = 86_400_000;
  const sync = createInvalidationSync(marks, { redis: options.enabled ? deps.redis : undefined, logger: deps.logger, commandTimeoutMs: options.commandTimeoutMs, maxEntryLifeMs });
  const l1 = createMemoryTier({ maxEntries: options.l1MaxEntries, ttlCapMs: deps.redis ? options.l1TtlMs : undefined });
  const l2 = deps.redis ? createRedisTier(deps.redis, { commandTimeoutMs: options.commandTimeoutMs }) : undefined;
  const fetchCache = options.enabled ? createFetchCache({ policy: options }, { l1, l2, marks, observer }) : undefined;
  const responses = createResponseCache(
    { maxEntries: options.enabled ? options.responseMaxEntries : 0, ttlCapMs: deps.redis ? options.l1TtlMs : undefined },
    { marks, onLookup: (result) => observer.response(result) },
  );
  if (options.enabled) {
    deps.logger.info(
      { event: 'cache_started', levels: l2 ? 'memory+redis' : 'memory' },
      l2 ? 'response cache: in-process LRU in front of Redis' : 'response cache: in-process LRU only (no PORTICO_REDIS_URL): not shared between instances',
    );
  }

  const plugin: ApolloServerPlugin<PorticoContext> = {
    async requestDidStart() {
      return {
        // After authorization filtered the document (its `queryHash` says so), before planning.
        async responseForOperation(rc) {
          const data = responses.answer(rc);
          return data && { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: data } };
        },
        async willSendResponse(rc) {
          const { request, response, contextValue, operation } = rc;
          const isGet = request.http?.method === 'GET';
          const hasErrors = response.body.kind !== 'single' || !!response.body.singleResult.errors?.length;
          const value = isGet ? responseCacheControl(contextValue.cacheNote, { isQuery: operation?.operation === 'query', hasErrors, degraded: contextValue.degraded.length > 0 }) : 'no-store';
          response.http.headers.set('cache-control', value);
          responses.keep(rc);
        },
      };
    },
  };

  return {
    fetchCache,
    plugin,
    invalidate: (target) => sync.invalidate(target),
    status() {
      const subgraphs: Record<string, CacheSubgraphStats> = {};
      for (const [name, c] of counters) {
        const lookups = c.hits + c.stale + c.misses;
        subgraphs[name] = extend(c, { hitRatio: lookups === 0 ? null : (c.hits + c.stale) / lookups });
      }
      const redis = deps.redis ? (deps.redis.status === 'ready' ? 'connected' : 'unavailable') : null;
      return { enabled: options.enabled, levels: l2 ? 'memory+redis' : 'memory', l1Entries: l1.size, responses: { entries: responses.size, ...responseCounts }, redis, subgraphs };
    },
    stop: () => sync.stop(),
  };
}
