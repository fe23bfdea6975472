import { describe, expect, it } from 'vitest';
import { freshnessAt, freshnessOf, lifetimes, notePart, parseCacheControl, responseCacheControl } from '../../../src/cache/policy.ts';
import type { ResponseCacheNote } from '../../../src/request/context.ts';

const SETTINGS = { ttls: {}, swrS: 30, staleIfErrorS: 300 };

describe('parseCacheControl', () => {
  it('reads what Apollo Server sends for @cacheControl hints', () => {
    expect(parseCacheControl('max-age=60, public')).toMatchObject({ maxAgeS: 60, scope: 'PUBLIC', noStore: false });
    expect(parseCacheControl('max-age=60, private')).toMatchObject({ maxAgeS: 60, scope: 'PRIVATE' });
    expect(parseCacheControl('no-store')).toMatchObject({ noStore: true });
  });
  it('prefers s-maxage, reads the RFC 5861 windows, ignores junk', () => {
    expect(parseCacheControl('Max-Age=10, S-MAXAGE=20, stale-while-revalidate=5, stale-if-error=99, foo, max-age=x')).toMatchObject({ maxAgeS: 20, swrS: 5, staleIfErrorS: 99 });
    expect(parseCacheControl('max-age=-1').maxAgeS).toBeUndefined();
    expect(parseCacheControl(undefined).maxAgeS).toBeUndefined();
  });
});

describe('freshnessOf', () => {
  it('caches nothing without a TTL from the hint or an override', () => {
    expect(freshnessOf(parseCacheControl(undefined), SETTINGS, 'pricing', 'Product')).toBeUndefined();
    expect(freshnessOf(parseCacheControl('max-age=0, public'), SETTINGS, 'pricing', 'Product')).toBeUndefined();
    expect(freshnessOf(parseCacheControl('no-store, max-age=60'), { ...SETTINGS, ttls: { pricing: 10 } }, 'pricing', 'Product')).toBeUndefined();
  });
  it('the most specific override wins, 0 turns caching off', () => {
    const ttls = { pricing: 10, 'pricing:Product': 20, 'review:Product': 0 };
    expect(freshnessOf(parseCacheControl('max-age=60'), { ...SETTINGS, ttls }, 'pricing', 'Product')!.maxAgeS).toBe(20);
    expect(freshnessOf(parseCacheControl('max-age=60'), { ...SETTINGS, ttls }, 'pricing', 'Query.x')!.maxAgeS).toBe(10);
    expect(freshnessOf(parseCacheControl(undefined), { ...SETTINGS, ttls }, 'pricing', 'Product')!.maxAgeS).toBe(20);
    expect(freshnessOf(parseCacheControl('max-age=600'), { ...SETTINGS, ttls }, 'review', 'Product')).toBeUndefined();
  });
  it('windows from the header win over the configured ones', () => {
    expect(freshnessOf(parseCacheControl('max-age=60, stale-while-revalidate=1'), SETTINGS, 'a', 'T')).toMatchObject({ swrS: 1, staleIfErrorS: 300 });
  });
});

describe('an entry’s life', () => {
  it('fresh → revalidate → stale-if-error → expired', () => {
    const l = lifetimes({ maxAgeS: 10, scope: 'PUBLIC', swrS: 5, staleIfErrorS: 100 }, 1_000);
    expect(freshnessAt(l, 10_999)).toBe('fresh');
    expect(freshnessAt(l, 11_000)).toBe('revalidate');
    expect(freshnessAt(l, 16_000)).toBe('stale-if-error');
    expect(freshnessAt(l, 116_000)).toBe('expired');
  });
});

describe('response Cache-Control', () => {
  const note = (): ResponseCacheNote => ({ maxAgeS: undefined, private: false, noStore: false });
  const query = { isQuery: true, hasErrors: false, degraded: false };
  it('smallest max-age of the parts, private if any part is', () => {
    const n = note();
    notePart(n, { maxAgeS: 3_600, scope: 'PUBLIC' });
    notePart(n, { maxAgeS: 60, scope: 'PUBLIC' });
    expect(responseCacheControl(n, query)).toBe('max-age=60, public');
    notePart(n, { maxAgeS: 600, scope: 'PRIVATE' });
    expect(responseCacheControl(n, query)).toBe('max-age=60, private');
  });
  it('no-store for mutations, errors, degraded answers, parts without a TTL, or nothing seen', () => {
    const n = note();
    notePart(n, { maxAgeS: 60, scope: 'PUBLIC' });
    expect(responseCacheControl(n, { ...query, isQuery: false })).toBe('no-store');
    expect(responseCacheControl(n, { ...query, hasErrors: true })).toBe('no-store');
    expect(responseCacheControl(n, { ...query, degraded: true })).toBe('no-store');
    expect(responseCacheControl(note(), query)).toBe('no-store');
    notePart(n, undefined);
    expect(responseCacheControl(n, query)).toBe('no-store');
  });
});
