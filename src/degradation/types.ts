import type { DocumentNode } from 'graphql';

/**
 * The shapes of degradation: what the subgraph data source records when a fetch fails (or is
 * answered from stale values), and what the response reports of it. Types only.
 */

/** One failed (or stale-served) subgraph fetch, recorded by the data source. */
export interface DegradedFetch {
  readonly service: string;
  /** Breaker key, e.g. `pricing:Product` or `product:Query.products`. */
  readonly key: string;
  readonly code: string;
  /** Client-safe reason, e.g. "timed out after 300 ms". */
  readonly reason: string;
  /** Path of the fetch in the response, `@` standing for every list element. */
  readonly pathPattern: readonly (string | number)[];
  /** Response names of the fields this fetch would have provided at `pathPattern`. */
  readonly fields: readonly string[];
  /** Entity type names the fetch targeted (entity fetches only). */
  readonly typenames: readonly string[];
  /** `Type.field` coordinates the fetch would have provided. */
  readonly coordinates: readonly string[];
  /** True when stale cached values were served instead of nulls. */
  readonly stale: boolean;
}

/** One entry of `extensions.degraded`: what a UI reads without parsing errors. */
export interface DegradedSummary {
  service: string;
  code: string;
  reason: string;
  /** `Type.field` coordinates that are null (or stale) in this response. */
  fields: string[];
  /** How many places in the response were affected. */
  count: number;
  stale: boolean;
}

/** What a failed fetch answers: `null` for its fields, or `stale`: the last good values where there are any. */
export type FallbackMode = 'null' | 'stale';

/**
 * The facts of one subgraph fetch that degradation needs, as the data source knows them (its
 * fetch shape is a superset of `shape`).
 */
export interface FetchFacts {
  /** Breaker key, e.g. `pricing:Product`: the field group a stale value belongs to. */
  readonly key: string;
  readonly fallback: FallbackMode;
  readonly shape: {
    /** `entity` for `_entities` fetches, `root` for root-field fetches. */
    readonly kind: 'entity' | 'root';
    readonly fields: readonly string[];
    readonly typenames: readonly string[];
    readonly coordinates: readonly string[];
  };
  /** The fetch document (its text is hashed once per document into the stale scope). */
  readonly document: DocumentNode;
  readonly query: string;
  readonly variables: Record<string, any> | undefined;
}
