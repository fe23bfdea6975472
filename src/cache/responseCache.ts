import type { GraphQLRequestContextResponseForOperation, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import type { FormattedExecutionResult, GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { PorticoContext } from '../request/context.ts';
import type { InvalidationMarks } from './invalidation.ts';
import { notePart, responseCacheControl } from './policy.ts';

/**
 * The whole-response level, in front of the per-fetch cache: the answer to an anonymous query
 * whose parts are all public and fresh is kept in this process for as long as the shortest part
 * stays fresh, and the next identical request (same supergraph, document after authorization,
 * operation name and variables) is answered without planning, executing or merging anything.
 *
 * It keeps exactly what a CDN may keep under point 5's rules: only answers whose `Cache-Control`
 * would be `max-age=N, public` (a query, no errors, not degraded, no part private or without a
 * TTL). Never for a signed-in caller: a subject's answer may hold private parts, or parts
 * filtered for their scopes. Anonymous callers all send the same (no) identity to the
 * subgraphs, so their answers are the same. Any invalidation mark made after an answer was
 * computed drops it (one number compared: marks are rare), and with Redis an instance keeps one
 * no longer than its L1 bound, like the per-fetch L1.
 */

/** 1,000 answers per instance (a product page is 1–10 KB: at most ~10 MB), the hot pages. */
export const DEFAULT_CACHE_RESPONSE_MAX_ENTRIES = 1_000;

export interface ResponseCacheOptions {
  /** 0: the level is off. */
  readonly maxEntries: number;
  /** Longest an answer stays, ms (undefined: its max-age, when there is no L2 to bound it by). */
  readonly ttlCapMs: number | undefined;
}

export interface ResponseCacheDeps {
  readonly marks: InvalidationMarks;
  readonly onLookup?: (result: 'hit' | 'miss') => void;
  /** Epoch ms; injected for tests. */
  readonly now?: () => number;
}

interface Kept {
  /** When the request that computed it started, epoch ms (invalidations compare with this). */
  readonly at: number;
  readonly freshUntil: number;
  /**
   * The answer's `data` as JSON text, parsed per hit. One string instead of the answer's object
   * graph: what a cold cache keeps survives the young generation, and every object kept is
   * copied by each scavenge on its way out (the pauses that made cold pages' p99 worse).
   */
  readonly json: string;
}

export interface ResponseCache {
  /** The kept answer for this request, or null (and the request is remembered for `keep`). */
  answer(rc: GraphQLRequestContextResponseForOperation<PorticoContext>): FormattedExecutionResult | null;
  /** Keeps this request's answer if it may be kept; a no-op for anything `answer` did not see miss. */
  keep(rc: GraphQLRequestContextWillSendResponse<PorticoContext>): void;
  readonly size: number;
}

/** Per supergraph (each lane, each reload has its own schema object): answers never cross versions. */
const schemaIds = new WeakMap<GraphQLSchema, number>();
let nextSchemaId = 1;

export function createResponseCache(options: ResponseCacheOptions, deps: ResponseCacheDeps): ResponseCache {
  const now = deps.now ?? Date.now;
  const lru = options.maxEntries > 0 ? new LRUCache<string, Kept>({ max: options.maxEntries, ttlAutopurge: false }) : undefined;
  /** Requests that missed, with their key and start time, until their answer is kept or dropped. */
  const pending = new WeakMap<PorticoContext, { key: string; at: number }>();

  function keyOf(rc: GraphQLRequestContextResponseForOperation<PorticoContext>): string | undefined {
    if (rc.operation?.operation !== 'query' || rc.contextValue.principal.kind !== 'anonymous' || rc.queryHash === undefined) return undefined;
    let schemaId = schemaIds.get(rc.schema);
    if (schemaId === undefined) schemaIds.set(rc.schema, (schemaId = nextSchemaId++));
    // `queryHash` is the document's after authorization filtered it (the permission set is in it).
    return `${schemaId}\u0000${rc.queryHash}\u0000${rc.request.operationName ?? ''}\u0000${JSON.stringify(rc.request.variables ?? {})}`;
  }

  return {
    answer(rc) {
      if (!lru) return null;
      const key = keyOf(rc);
      if (key === undefined) return null;
      const t = now();
      const kept = lru.get(key);
      if (kept && kept.freshUntil > t && kept.at >= deps.marks.latest) {
        deps.onLookup?.('hit');
        const note = rc.contextValue.cacheNote;
        if (note) notePart(note, { maxAgeS: Math.floor((kept.freshUntil - t) / 1_000), scope: 'PUBLIC' });
        // A new object per hit: plugins after this one add their own `errors`/`extensions` to it.
        return { data: JSON.parse(kept.json) as FormattedExecutionResult['data'] };
      }
      deps.onLookup?.('miss');
      pending.set(rc.contextValue, { key, at: t });
      return null;
    },
    keep(rc) {
      const miss = lru && pending.get(rc.contextValue);
      if (!miss) return;
      pending.delete(rc.contextValue);
      const { response, contextValue } = rc;
      if (response.body.kind !== 'single') return;
      const result = response.body.singleResult;
      const hasErrors = !!result.errors?.length;
      const header = responseCacheControl(contextValue.cacheNote, { isQuery: true, hasErrors, degraded: contextValue.degraded.length > 0 });
      if (!header.endsWith(', public') || contextValue.sharedResponse || result.data == null) return;
      // An invalidation while this was computed: its parts may predate the mark.
      if (deps.marks.latest > miss.at) return;
      const maxAgeMs = contextValue.cacheNote!.maxAgeS! * 1_000;
      const life = options.ttlCapMs === undefined ? maxAgeMs : Math.min(maxAgeMs, options.ttlCapMs);
      lru.set(miss.key, { at: miss.at, freshUntil: miss.at + life, json: JSON.stringify(result.data) }, { ttl: life });
    },
    get size() {
      return lru?.size ?? 0;
    },
  };
}
