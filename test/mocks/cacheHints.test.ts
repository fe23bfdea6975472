import { parse, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hintFor } from '../../subgraphs-mock/cacheHints.ts';
import { startMock, type RunningMock } from '../../subgraphs-mock/index.ts';

const op = (q: string) => parse(q).definitions[0] as OperationDefinitionNode;

describe('the demo mocks’ cache hints', () => {
  it('the smallest max-age of a fetch’s parts, private if any part is, none without a hint for every part', () => {
    expect(hintFor('pricing', op('{ _entities(representations: []) { ... on Product { price { amount } } } }'))).toEqual({ maxAge: 60, scope: 'PUBLIC' });
    expect(hintFor('pricing', op('{ _entities(representations: []) { ... on Product { price { amount } costPrice { amount } } } }'))).toEqual({ maxAge: 60, scope: 'PRIVATE' });
    expect(hintFor('product', op('{ products(first: 2) { id } }'))).toEqual({ maxAge: 3_600, scope: 'PUBLIC' });
    expect(hintFor('review', op('{ latestReviews { id } }'))).toEqual({ maxAge: 60, scope: 'PUBLIC' });
    expect(hintFor('review', op('mutation { addReview(productId: "1", rating: 5, body: "x") { id } }'))).toBeUndefined();
    expect(hintFor('inventory', op('{ _entities(representations: []) { ... on Nope { x } } }'))).toBeUndefined();
  });

  describe('over HTTP', () => {
    let hinting: RunningMock;
    let quiet: RunningMock;
    beforeAll(async () => {
      [hinting, quiet] = await Promise.all([startMock('pricing', { cacheHints: true }), startMock('pricing')]);
    });
    afterAll(async () => {
      await Promise.all([hinting?.stop(), quiet?.stop()]);
    });
    const ask = (m: RunningMock) =>
      fetch(m.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { price { amount } } } }', variables: { r: [{ __typename: 'Product', id: '1' }] } }),
      });
    it('sends Cache-Control only when asked to (tests of other concerns count every call)', async () => {
      expect((await ask(hinting)).headers.get('cache-control')).toBe('max-age=60, public');
      expect((await ask(quiet)).headers.get('cache-control')).toBeNull();
    });
  });
});
