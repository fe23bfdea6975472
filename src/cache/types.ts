import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { DocumentNode } from 'graphql';

/**
 * What the cache reports and exposes: the observer metrics implement, and the per-subgraph view
 * the health report shows; the facts of a fetch the data source hands it. Types only.
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

/** The facts of one fetch the cache needs, as the data source knows them. */
export interface CacheableFetch {
  readonly subgraph: string;
  /** Breaker key: `pricing:Product`. */
  readonly key: string;
  /** Field group without the subgraph: `Product`, `Query.products`. */
  readonly group: string;
  readonly kind: 'entity' | 'root';
  readonly operationType: 'query' | 'mutation' | 'subscription';
  readonly document: DocumentNode;
  readonly query: string;
  readonly variables: Record<string, any> | undefined;
}

/** What the data source answers for the variables it was handed. */
export interface FetchOutcome {
  readonly response: GatewayGraphQLResponse;
  /** The subgraph's `Cache-Control` and `Vary` headers (absent when it failed). */
  readonly cacheControl?: string | undefined;
  readonly vary?: string | undefined;
  /** True when the subgraph failed and the response is the degraded stand-in. */
  readonly failed: boolean;
}

/**
 * Sends the fetch with these variables. `fallback`: per representation (one value for a root
 * fetch), the last good value to serve if the subgraph fails. `background`: a refresh nobody
 * waits for; its failure must not be reported in the request's answer.
 */
export type Fetcher = (variables: Record<string, any> | undefined, options: { fallback: readonly (string | undefined)[]; background: boolean }) => Promise<FetchOutcome>;
