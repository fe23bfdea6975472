import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { staleKey, staleScope } from '../../../src/degradation/staleKeys.ts';

describe('staleScope: which fetch a stale value answers', () => {
  const q5 = 'query($n:Int){reviews(first:$n){id}}';
  const doc = parse(q5);
  it('starts with the breaker key (the Redis hash tag), then the document id', () => {
    const scope = staleScope('review:Query.reviews', doc, q5, undefined);
    expect(scope.startsWith('review:Query.reviews|')).toBe(true);
    expect(scope.endsWith('|')).toBe(true);
  });
  it('other variables are part of the scope; representations are not', () => {
    const a = staleScope('k', doc, q5, { n: 5 });
    const b = staleScope('k', doc, q5, { n: 3 });
    expect(a).not.toBe(b);
    expect(staleScope('k', doc, q5, { representations: [{ id: '1' }] })).toBe(staleScope('k', doc, q5, undefined));
    expect(staleScope('k', doc, q5, { representations: [], n: 5 })).toBe(a);
  });
  it('the same text gives the same id from another parse (other instances, restarts)', () => {
    expect(staleScope('k', parse(q5), q5, undefined)).toBe(staleScope('k', doc, q5, undefined));
    const other = '{reviews{id body}}';
    expect(staleScope('k', parse(other), other, undefined)).not.toBe(staleScope('k', doc, q5, undefined));
  });
  it('an entity key adds its representation to the scope', () => {
    expect(staleKey('s', { __typename: 'Product', id: '1' })).toBe('s|{"__typename":"Product","id":"1"}');
  });
});
