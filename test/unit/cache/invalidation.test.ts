import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, itemKeyPart, keyPrefix, makeEntry } from '../../../src/cache/entry.ts';
import { InvalidationMarks, parseMark, targetId } from '../../../src/cache/invalidation.ts';

const entity = (typename: string, id: string, at: number) => ({ subgraph: 'pricing', kind: 'entity' as const, typename, representation: { __typename: typename, id }, at });

describe('invalidation marks', () => {
  it('by subgraph: every entry of it fetched before the mark', () => {
    const m = new InvalidationMarks();
    m.apply({ target: { by: 'subgraph', subgraph: 'pricing' }, at: 100 });
    expect(m.covers(entity('Product', '1', 99))).toBe(true);
    expect(m.covers(entity('Product', '1', 101))).toBe(false);
    expect(m.covers({ ...entity('Product', '1', 99), subgraph: 'review' })).toBe(false);
  });
  it('by type, and by type + key fields; root answers go with any type mark', () => {
    const m = new InvalidationMarks();
    m.apply({ target: { by: 'key', type: 'Product', key: { id: '1' } }, at: 100 });
    expect(m.covers(entity('Product', '1', 50))).toBe(true);
    expect(m.covers(entity('Product', '2', 50))).toBe(false);
    expect(m.covers(entity('Review', '1', 50))).toBe(false);
    expect(m.covers({ subgraph: 'product', kind: 'root', typename: undefined, representation: undefined, at: 50 })).toBe(true);
    m.apply({ target: { by: 'type', type: 'Review' }, at: 200 });
    expect(m.covers(entity('Review', '9', 150))).toBe(true);
    m.prune(150);
    expect(m.covers(entity('Product', '1', 50))).toBe(false);
  });
  it('latest: the newest mark of any kind, so an entry written since is known uncovered at a glance', () => {
    const m = new InvalidationMarks();
    expect(m.latest).toBe(0);
    m.apply({ target: { by: 'key', type: 'Product', key: { id: '1' } }, at: 100 });
    m.apply({ target: { by: 'subgraph', subgraph: 'pricing' }, at: 300 });
    m.apply({ target: { by: 'type', type: 'Review' }, at: 200 });
    expect(m.latest).toBe(300);
    expect(m.covers(entity('Product', '1', m.latest))).toBe(false);
  });
  it('ids round-trip through their stored form; junk is refused', () => {
    for (const target of [{ by: 'subgraph', subgraph: 'pricing' }, { by: 'type', type: 'Product' }, { by: 'key', type: 'Product', key: { id: '1', sku: 'x' } }] as const) {
      expect(parseMark(targetId(target), '42')).toEqual({ target, at: 42 });
    }
    expect(parseMark('key:Product:[1]', '1')).toBeUndefined();
    expect(parseMark('what', '1')).toBeUndefined();
    expect(parseMark('type:T', 'x')).toBeUndefined();
  });
});

describe('entries', () => {
  it('encode and decode without re-encoding the value; anything else is a miss', () => {
    const e = makeEntry({ maxAgeS: 60, scope: 'PRIVATE', swrS: 30, staleIfErrorS: 300 }, 1_000, '{"a":"b\\nc"}');
    expect(decodeEntry(encodeEntry(e))).toEqual(e);
    expect(e).toMatchObject({ freshUntil: 61_000, swrUntil: 91_000, staleUntil: 391_000 });
    expect(decodeEntry('garbage')).toBeUndefined();
    expect(decodeEntry('1,2,3\n{}')).toBeUndefined();
    expect(decodeEntry(null)).toBeUndefined();
  });
});

describe('cache keys', () => {
  const anon = { vary: '', privateId: undefined };
  it('one prefix per fetch scope, audience and scope kind; the representation appended as is', () => {
    const p = keyPrefix('portico:cache:', 'pricing:Product', 'pricing:Product|doc1|', anon, 'PUBLIC');
    expect(p).toMatch(/^portico:cache:\{pricing:Product\}:[\w-]{27}:$/);
    expect(keyPrefix('portico:cache:', 'pricing:Product', 'pricing:Product|doc2|', anon, 'PUBLIC')).not.toBe(p);
    expect(keyPrefix('portico:cache:', 'pricing:Product', 'pricing:Product|doc1|', { vary: 'x-tier=gold', privateId: undefined }, 'PUBLIC')).not.toBe(p);
    const alice = keyPrefix('portico:cache:', 'pricing:Product', 'pricing:Product|doc1|', { vary: '', privateId: 'alice' }, 'PRIVATE');
    expect(alice).not.toBe(keyPrefix('portico:cache:', 'pricing:Product', 'pricing:Product|doc1|', { vary: '', privateId: 'bob' }, 'PRIVATE'));
    expect(alice).not.toBe(p);
    expect(itemKeyPart({ __typename: 'Product', id: '7' })).toBe('{"__typename":"Product","id":"7"}');
  });
  it('a long representation is hashed, so keys stay short', () => {
    const long = itemKeyPart({ __typename: 'Product', id: '7', dimensions: 'x'.repeat(500) });
    expect(long).toMatch(/^#[\w-]{27}$/);
    expect(itemKeyPart({ __typename: 'Product', id: '7', dimensions: 'y'.repeat(500) })).not.toBe(long);
  });
});
