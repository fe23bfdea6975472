import { describe, expect, it } from 'vitest';
import { fallbackResponse, representationsOf, staleEntries, staleReadKeys, worthKeeping } from '../../../src/degradation/decision.ts';
import { staleKey } from '../../../src/degradation/staleKeys.ts';

const reps = [
  { __typename: 'Product', id: '1' },
  { __typename: 'Product', id: '2' },
];

describe('staleReadKeys: what a failed fetch looks up', () => {
  it('nothing when the fallback is null', () => {
    expect(staleReadKeys('null', 'entity', 's', reps)).toEqual([]);
    expect(staleReadKeys('null', 'root', 's', [])).toEqual([]);
  });
  it('one key per entity, in order; the scope itself for a root fetch', () => {
    expect(staleReadKeys('stale', 'entity', 's', reps)).toEqual([staleKey('s', reps[0]), staleKey('s', reps[1])]);
    expect(staleReadKeys('stale', 'entity', 's', [])).toEqual([]);
    expect(staleReadKeys('stale', 'root', 's', [])).toEqual(['s']);
  });
});

describe('fallbackResponse: null or stale', () => {
  it('entity fetch without cached values: one null per representation, not stale', () => {
    expect(fallbackResponse('entity', reps, [])).toEqual({ response: { data: { _entities: [null, null] } }, stale: false });
  });
  it('entity fetch: cached entities come back, the rest stay null, stale when any came back', () => {
    const r = fallbackResponse('entity', reps, [undefined, JSON.stringify({ price: 2 })]);
    expect(r).toEqual({ response: { data: { _entities: [null, { price: 2 }] } }, stale: true });
  });
  it('an entity whose cached value is JSON null does not count as stale', () => {
    expect(fallbackResponse('entity', reps, ['null', undefined]).stale).toBe(false);
  });
  it('root fetch: data null without a cached value, the cached data (stale) with one', () => {
    expect(fallbackResponse('root', [], [])).toEqual({ response: { data: null }, stale: false });
    expect(fallbackResponse('root', [], [JSON.stringify({ products: [] })])).toEqual({ response: { data: { products: [] } }, stale: true });
  });
});

describe('what is kept for stale-if-error', () => {
  it('only clean answers are worth keeping', () => {
    expect(worthKeeping({ data: { a: 1 } })).toBe(true);
    expect(worthKeeping({ data: null })).toBe(false);
    expect(worthKeeping({ data: { a: 1 }, errors: [{ message: 'x' }] })).toBe(false);
    expect(worthKeeping({ data: { a: 1 }, errors: [] })).toBe(true);
  });
  it('entity answers: one entry per non-null entity, keyed by its representation', () => {
    const entries = staleEntries('entity', 's', reps, { data: { _entities: [{ price: 1 }, null] } });
    expect(entries).toEqual([[staleKey('s', reps[0]), JSON.stringify({ price: 1 })]]);
  });
  it('root answers: the whole data under the scope', () => {
    expect(staleEntries('root', 's', [], { data: { products: [1] } })).toEqual([['s', JSON.stringify({ products: [1] })]]);
  });
  it('nothing from an answer not worth keeping', () => {
    expect(staleEntries('root', 's', [], { data: { a: 1 }, errors: [{ message: 'x' }] })).toEqual([]);
  });
  it('representations are read from the variables, none when absent', () => {
    expect(representationsOf({ representations: reps })).toBe(reps);
    expect(representationsOf(undefined)).toEqual([]);
    expect(representationsOf({ first: 3 })).toEqual([]);
  });
});
