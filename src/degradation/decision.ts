import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { staleKey } from './staleKeys.ts';
import type { FallbackMode } from './types.ts';

/**
 * The decision null vs stale for a failed fetch, and which good values are kept for it. Pure:
 * the store reads and writes around it are the caller's (subgraphFallback.ts).
 */

type FetchKind = 'entity' | 'root';

/** The entity representations of an `_entities` fetch (none for a root fetch). */
export function representationsOf(variables: Record<string, any> | undefined): unknown[] {
  return (variables?.representations ?? []) as unknown[];
}

/**
 * The stale values to look up for a failed fetch: one per entity, or the scope itself for a
 * root fetch; none when the fallback is `null` or there is no entity to answer.
 */
export function staleReadKeys(fallback: FallbackMode, kind: FetchKind, scope: string, representations: readonly unknown[]): string[] {
  if (fallback !== 'stale') return [];
  if (kind === 'entity') return representations.map((r) => staleKey(scope, r));
  return [scope];
}

/**
 * What a failed fetch answers: nulls for exactly its own fields, except where `cached` (the
 * values read for {@link staleReadKeys}, in order; empty when none were read or the read
 * failed) holds a last good value. `stale` is true when at least one stale value is served.
 */
export function fallbackResponse(kind: FetchKind, representations: readonly unknown[], cached: readonly (string | undefined)[]): { response: GatewayGraphQLResponse; stale: boolean } {
  if (kind === 'entity') {
    const entities: unknown[] = representations.map((_, i) => (cached[i] ? JSON.parse(cached[i]!) : null));
    return { response: { data: { _entities: entities } }, stale: entities.some((e) => e !== null) };
  }
  const [value] = cached;
  if (!value) return { response: { data: null }, stale: false };
  return { response: { data: JSON.parse(value) as Record<string, unknown> }, stale: true };
}

/** Only a clean answer (data, no errors) may later stand in for a failed fetch. */
export function worthKeeping(response: GatewayGraphQLResponse): boolean {
  return !response.errors?.length && !!response.data;
}

/**
 * The values of an answer kept for stale-if-error: each entity that is not null, or the whole
 * data of a root fetch; none for an answer not {@link worthKeeping}.
 */
export function staleEntries(kind: FetchKind, scope: string, representations: readonly unknown[], response: GatewayGraphQLResponse): [string, string][] {
  if (!worthKeeping(response)) return [];
  const entries: [string, string][] = [];
  if (kind === 'entity') {
    const entities = (response.data as { _entities?: unknown[] })._entities ?? [];
    representations.forEach((r, i) => {
      if (entities[i] != null) entries.push([staleKey(scope, r), JSON.stringify(entities[i])]);
    });
  } else {
    entries.push([scope, JSON.stringify(response.data)]);
  }
  return entries;
}
