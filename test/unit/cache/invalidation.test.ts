import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, makeEntry } from '../../../src/cache/entry.ts';
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
