import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { fallbackResponse, representationsOf, staleEntries, staleReadKeys, worthKeeping } from './decision.ts';
import { staleScope } from './staleKeys.ts';
import { StaleWriteSampler } from './staleSampler.ts';
import type { StaleStore } from './staleStore.ts';
import type { DegradedFetch, FetchFacts } from './types.ts';

export interface SubgraphFallbackOptions {
  /** The subgraph whose fetches this answers for (the `service` of each record). */
  service: string;
}

export interface SubgraphFallbackDeps {
  /** Where good values are kept and read back; its errors are misses, never the client's. */
  stale: StaleStore;
  /** Which good answers are kept; default one per second per fetch scope. */
  sampler?: StaleWriteSampler;
}

/** Degradation as one subgraph's data source uses it: keep good values, answer failed fetches. */
export interface SubgraphFallback {
  /** Keeps the good values of a `fallback: stale` fetch, sampled (see StaleWriteSampler). */
  remember(fetch: FetchFacts, response: GatewayGraphQLResponse): void;
  /**
   * Answers a failed fetch with nulls for exactly its own fields (or stale values), and records
   * it in `degraded`, from which the degradation plugin builds response-shaped errors.
   * `cached`: values the cache still holds within their stale-if-error window, per entity (one
   * for a root fetch), used where the stale store has none.
   */
  degrade(
    fetch: FetchFacts,
    failure: { readonly code: string; readonly reason: string },
    path: readonly (string | number)[],
    degraded: DegradedFetch[],
    cached?: readonly (string | undefined)[],
  ): Promise<GatewayGraphQLResponse>;
}

export function createSubgraphFallback(options: SubgraphFallbackOptions, deps: SubgraphFallbackDeps): SubgraphFallback {
  const sampler = deps.sampler ?? new StaleWriteSampler();
  const scopeOf = (fetch: FetchFacts) => staleScope(fetch.key, fetch.document, fetch.query, fetch.variables);
  return {
    remember(fetch, response) {
      if (fetch.fallback !== 'stale' || !worthKeeping(response)) return;
      const scope = scopeOf(fetch);
      if (!sampler.due(scope)) return;
      const entries = staleEntries(fetch.shape.kind, scope, representationsOf(fetch.variables), response);
      if (entries.length) void deps.stale.setMany(entries).catch(() => undefined);
    },

    async degrade(fetch, failure, path, degraded, fromCache = []) {
      const { shape } = fetch;
      const representations = shape.kind === 'entity' ? representationsOf(fetch.variables) : [];
      const keys = staleReadKeys(fetch.fallback, shape.kind, scopeOf(fetch), representations);
      const stored = keys.length > 0 ? await deps.stale.getMany(keys).catch(() => []) : [];
      const count = shape.kind === 'entity' ? representations.length : 1;
      const cached = Array.from({ length: count }, (_, i) => stored[i] ?? fromCache[i]);
      const { response, stale } = fallbackResponse(shape.kind, representations, cached);
      degraded.push({
        service: options.service,
        key: fetch.key,
        code: failure.code,
        reason: failure.reason,
        pathPattern: path,
        fields: shape.fields,
        typenames: shape.typenames,
        coordinates: shape.coordinates,
        stale,
      });
      return response;
    },
  };
}
