/**
 * What a mock subgraph module is: a name, its SDL from `schemas/`, and a factory for resolvers
 * bound to one running instance. Also the small helpers every module shares.
 */
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import DataLoader from 'dataloader';
import { GraphQLError, parse } from 'graphql';
import type { DocumentNode } from 'graphql';
import type { StatsRecorder } from './stats.ts';

/** The four subgraphs of the Portico supergraph. */
export type MockName = 'product' | 'pricing' | 'inventory' | 'review';

export const MOCK_NAMES: readonly MockName[] = Object.freeze(['product', 'pricing', 'inventory', 'review']);

/** Ports matching `schemas/subgraphs.json` (and so the committed supergraph). */
export const DEFAULT_MOCK_PORTS: Readonly<Record<MockName, number>> = Object.freeze({
  product: 4001,
  pricing: 4002,
  inventory: 4003,
  review: 4004,
});

/** What a subgraph may know about the HTTP request it serves. */
export interface MockRequestInfo {
  readonly headers: IncomingHttpHeaders;
}

/** One running instance of a subgraph: resolvers over its own store, plus per-request context. */
export interface MockSubgraphInstance<TContext extends object = object> {
  readonly resolvers: GraphQLResolverMap<TContext>;
  /** Called once per GraphQL request; DataLoaders live here so batches never span requests. */
  createContext(request: MockRequestInfo): TContext;
}

/** A mock subgraph module. */
export interface MockSubgraph<TContext extends object = object> {
  readonly name: MockName;
  /** Parsed from `schemas/<name>.graphql`, the same file composition reads. */
  readonly typeDefs: DocumentNode;
  /**
   * Builds a fresh instance with its own mutable state (e.g. added reviews).
   * @param stats where backend lookups and mutations are counted.
   */
  create(stats: StatsRecorder): MockSubgraphInstance<TContext>;
}

/** Reads and parses `schemas/<name>.graphql`; throws (at import) if it is missing or invalid. */
export function loadTypeDefs(name: MockName): DocumentNode {
  return parse(readFileSync(new URL(`../schemas/${name}.graphql`, import.meta.url), 'utf8'));
}

/**
 * A per-request DataLoader whose batch function is one "backend lookup": however many keys one
 * `_entities` call brings, the mock's backend is read once, and `stats.backendLookups` says so.
 * @param read answers each key in order; null for unknown keys.
 */
export function countedLoader<V>(
  stats: StatsRecorder,
  read: (keys: readonly string[]) => readonly (V | null)[],
): DataLoader<string, V | null> {
  return new DataLoader<string, V | null>(async (keys) => {
    stats.count('backendLookups');
    return read(keys);
  });
}

/** A client error with the standard Apollo code, so gateways pass it through unmasked. */
export function badUserInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

/** Validates a non-negative integer argument such as `first` or `offset`. */
export function nonNegative(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw badUserInput(`${name} must be >= 0, got ${value}`);
  return value;
}
