/**
 * Cache hints the demo subgraphs send, as `Cache-Control` headers: what Apollo Server's cache
 * control plugin would send for `@cacheControl(maxAge, scope)` on these types and fields. Kept
 * out of the SDL so the composed supergraph stays as it is. Each value says how often the real
 * thing changes:
 * - products 1 h: names and descriptions are edited a few times a day at most;
 * - prices 60 s: prices change hourly; a minute bounds how long a changed price is shown late;
 * - inventory 5 s: stock moves with every order, but a burst of page views can share a count;
 * - reviews 10 min: new reviews appear a few times a day per product; latest reviews 60 s;
 * - `Product.costPrice` is private (staff-only data): kept per caller, never shared.
 * Anything not listed (mutations, unknown fields) sends no hint, so nothing is cached for it.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { MockName } from './subgraph.ts';

export interface Hint {
  readonly maxAge: number;
  readonly scope?: 'PUBLIC' | 'PRIVATE';
}

/** Per subgraph: hints by entity type (`Product`) and by field (`Product.costPrice`, `Query.products`). */
export const CACHE_HINTS: Readonly<Record<MockName, { types: Record<string, Hint>; fields: Record<string, Hint> }>> = {
  product: { types: { Product: { maxAge: 3_600 } }, fields: { 'Query.product': { maxAge: 3_600 }, 'Query.products': { maxAge: 3_600 } } },
  pricing: { types: { Product: { maxAge: 60 } }, fields: { 'Product.costPrice': { maxAge: 60, scope: 'PRIVATE' } } },
  inventory: { types: { Product: { maxAge: 5 } }, fields: {} },
  review: { types: { Product: { maxAge: 600 }, Review: { maxAge: 600 } }, fields: { 'Query.latestReviews': { maxAge: 60 } } },
};

/** The hint of one fetch: smallest max-age of its parts, private if any is; undefined if a part has none. */
export function hintFor(name: MockName, op: OperationDefinitionNode): Hint | undefined {
  if (op.operation !== 'query') return undefined;
  const table = CACHE_HINTS[name];
  let maxAge = Infinity;
  let priv = false;
  const take = (h: Hint | undefined): boolean => {
    if (!h) return false;
    maxAge = Math.min(maxAge, h.maxAge);
    if (h.scope === 'PRIVATE') priv = true;
    return true;
  };
  for (const sel of op.selectionSet.selections) {
    if (sel.kind !== Kind.FIELD || sel.name.value === '__typename') continue;
    if (sel.name.value === '_entities') {
      for (const frag of sel.selectionSet?.selections ?? []) {
        if (frag.kind !== Kind.INLINE_FRAGMENT || !frag.typeCondition) return undefined;
        const type = frag.typeCondition.name.value;
        if (!take(table.types[type])) return undefined;
        for (const f of fieldsOf(frag.selectionSet)) take(table.fields[`${type}.${f}`]);
      }
    } else if (!take(table.fields[`Query.${sel.name.value}`])) {
      return undefined;
    }
  }
  return maxAge === Infinity ? undefined : { maxAge, scope: priv ? 'PRIVATE' : 'PUBLIC' };
}

function fieldsOf(set: SelectionSetNode): string[] {
  return set.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : s.kind === Kind.INLINE_FRAGMENT ? fieldsOf(s.selectionSet) : []));
}

/** Sets `Cache-Control` on answers without errors, as Apollo's cache control plugin does. */
export function cacheHintsPlugin(name: MockName): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operation }) {
          if (!operation || response.body.kind !== 'single' || response.body.singleResult.errors?.length) return;
          const hint = hintFor(name, operation);
          if (hint) response.http.headers.set('cache-control', `max-age=${hint.maxAge}, ${hint.scope === 'PRIVATE' ? 'private' : 'public'}`);
        },
      };
    },
  };
}
