import { describe, expect, it } from 'vitest';
import { createParseCache } from '../../../src/subgraphs/parseCache.ts';

describe('createParseCache', () => {
  it('parses a text once and hands back the same document', () => {
    const cache = createParseCache();
    const doc = cache.parse('{ a }');
    expect(cache.parse('{ a }')).toBe(doc);
  });
  it('each cache is its own: nothing is shared between instances', () => {
    expect(createParseCache().parse('{ a }')).not.toBe(createParseCache().parse('{ a }'));
  });
  it('is bounded: the least recently used text is parsed again', () => {
    const cache = createParseCache({ maxEntries: 2 });
    const a = cache.parse('{ a }');
    cache.parse('{ b }');
    cache.parse('{ c }');
    expect(cache.parse('{ a }')).not.toBe(a);
  });
  it('throws on invalid syntax', () => {
    expect(() => createParseCache().parse('{')).toThrow();
  });
});
