import { describe, expect, it } from 'vitest';
import { createQueryPlanCache } from '../../../src/planning/planCache.ts';

// A stand-in plan of a known JSON size; the cache only measures and stores it.
const plan = (n: number, bytes: number) => ({ kind: 'QueryPlan', node: { kind: 'Fetch', serviceName: `s${n}`, operation: 'x'.repeat(bytes) } }) as never;

describe('query-plan cache', () => {
  it('counts hits and misses, and evicts the least recently used plan past its byte budget', async () => {
    const lookups: boolean[] = [];
    const cache = createQueryPlanCache({ maxMb: 2_000 / 2 ** 20 }, { onLookup: (hit) => lookups.push(hit) });
    expect(await cache.get('a')).toBeUndefined();
    await cache.set('a', plan(1, 800));
    expect(await cache.get('a')).toBeDefined();
    await cache.set('b', plan(2, 800));
    expect(cache.entries).toBe(2);
    expect(cache.sizeBytes).toBeGreaterThan(1_600);
    await cache.get('a'); // a is now the most recently used
    await cache.set('c', plan(3, 800)); // over 2,000 bytes: b goes
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBeDefined();
    expect(lookups).toEqual([false, true, true, false, true]);
  });

  it('is emptied by clear(), which the gateway calls on every supergraph load', async () => {
    const cache = createQueryPlanCache({ maxMb: 1 });
    await cache.set('a', plan(1, 10));
    cache.clear();
    expect(cache.entries).toBe(0);
    expect(await cache.get('a')).toBeUndefined();
  });
});
