/**
 * What the cache reports and exposes: the observer metrics implement, and the per-subgraph view
 * the health report shows. Types only.
 */

/** `type` is an entity type name or a root field group (`Query.products`): bounded by the schema. */
export interface CacheObserver {
  /** One representation (or root fetch) looked up: `hit` fresh, `stale` served while refreshed, `miss` sent. */
  lookup(subgraph: string, type: string, result: 'hit' | 'stale' | 'miss', count: number): void;
  /** A value past its refresh window answered for a failed subgraph. */
  staleIfError(subgraph: string, type: string): void;
  revalidation(subgraph: string, type: string, outcome: 'success' | 'failure'): void;
  /** Values of one type kept by one fetch, with their JSON size in characters. */
  stored(subgraph: string, type: string, bytes: number): void;
  /** A Redis read or write that failed (treated as a miss / skipped). */
  sharedError(subgraph: string): void;
  /** An anonymous query looked up in the whole-response level: answered from it, or executed. */
  response(result: 'hit' | 'miss'): void;
}

/** Counters of one subgraph since start, for `/health/subgraphs` and the status page. */
export interface CacheSubgraphStats {
  hits: number;
  stale: number;
  misses: number;
  staleIfError: number;
  /** (hits + stale) / lookups; null before the first lookup. */
  hitRatio: number | null;
}

export interface CacheStatus {
  enabled: boolean;
  /** `memory` (L1 only) or `memory+redis`. */
  levels: string;
  l1Entries: number;
  /** Whole answers held (anonymous, public queries), and how many requests they answered. */
  responses: { entries: number; hits: number; misses: number };
  /** L2: `connected`, `unavailable` (Redis configured but away: L1 only, loudly), or null without Redis. */
  redis: 'connected' | 'unavailable' | null;
  subgraphs: Record<string, CacheSubgraphStats>;
}
