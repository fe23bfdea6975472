import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createFetchCache, UNCACHEABLE_STREAK, type FetchOutcome } from '../../../src/cache/fetchCache.ts';
import { InvalidationMarks } from '../../../src/cache/invalidation.ts';
import { createMemoryTier, type SharedTier } from '../../../src/cache/tiers.ts';
import type { CacheObserver } from '../../../src/cache/types.ts';
import type { PorticoContext } from '../../../src/request/context.ts';

const QUERY = 'query($representations:[_Any!]!){_entities(representations:$representations){...on Product{price{amount}}}}';
const DOC = parse(QUERY);
const noop: CacheObserver = { lookup() {}, staleIfError() {}, revalidation() {}, stored() {}, sharedError() {}, response() {} };
const rep = (id: string) => ({ __typename: 'Product', id });
const fetchOf = (ids: string[]) => ({ subgraph: 'pricing', key: 'pricing:Product', group: 'Product', kind: 'entity' as const, operationType: 'query' as const, document: DOC, query: QUERY, variables: { representations: ids.map(rep) } });
const ctxOf = (subject?: string) =>
  ({ principal: subject ? { kind: 'user', subject, scopes: [], tier: undefined } : { kind: 'anonymous' }, cacheNote: { maxAgeS: undefined, private: false, noStore: false } }) as unknown as PorticoContext;

function setup(now = () => 1_000_000) {
  const sent: string[][] = [];
  let cacheControl = 'max-age=60, public';
  let vary: string | undefined;
  const cache = createFetchCache({ policy: { ttls: {}, swrS: 30, staleIfErrorS: 300 } }, { l1: createMemoryTier({ maxEntries: 100, ttlCapMs: undefined }), l2: undefined, marks: new InvalidationMarks(), observer: noop, now });
  const send = async (variables: Record<string, any> | undefined): Promise<FetchOutcome> => {
    const ids = (variables!.representations as { id: string }[]).map((r) => r.id);
    sent.push(ids);
    const errors = ids.includes('bad') ? [{ message: 'nope', path: ['_entities', ids.indexOf('bad'), 'price'] }] : undefined;
    return { response: { data: { _entities: ids.map((id) => (id === 'bad' ? null : { price: { amount: Number(id) } })) }, ...(errors ? { errors } : {}) }, cacheControl, vary, failed: false };
  };
  return { cache, send, sent, set: (cc: string, v?: string) => ((cacheControl = cc), (vary = v)) };
}

describe('per-fetch cache', () => {
  it('sends only the misses and merges the answers back in order', async () => {
    const { cache, send, sent } = setup();
    await cache.fetch(fetchOf(['1', '2']), ctxOf(), {}, '{}', send);
    const r = await cache.fetch(fetchOf(['3', '1', '4', '2']), ctxOf(), {}, '{}', send);
    expect(sent).toEqual([['1', '2'], ['3', '4']]);
    expect((r.data as any)._entities.map((e: any) => e.price.amount)).toEqual([3, 1, 4, 2]);
    await cache.fetch(fetchOf(['4', '3']), ctxOf(), {}, '{}', send);
    expect(sent).toHaveLength(2);
  });

  it('renumbers the subgraph’s error paths to the original positions', async () => {
    const { cache, send } = setup();
    await cache.fetch(fetchOf(['1']), ctxOf(), {}, '{}', send);
    const r = await cache.fetch(fetchOf(['1', 'bad']), ctxOf(), {}, '{}', send);
    expect(r.errors![0]!.path).toEqual(['_entities', 1, 'price']);
  });

  it('private answers are kept per subject, never for anonymous callers nor shared', async () => {
    const { cache, send, sent, set } = setup();
    set('max-age=60, private');
    await cache.fetch(fetchOf(['1']), ctxOf(), {}, '{}', send);
    await cache.fetch(fetchOf(['1']), ctxOf(), {}, '{}', send);
    expect(sent).toHaveLength(2); // anonymous: never kept
    await cache.fetch(fetchOf(['1']), ctxOf('alice'), {}, '{"s":"alice"}', send);
    await cache.fetch(fetchOf(['1']), ctxOf('alice'), {}, '{"s":"alice"}', send);
    expect(sent).toHaveLength(3); // alice's own entry
    await cache.fetch(fetchOf(['1']), ctxOf('bob'), {}, '{"s":"bob"}', send);
    await cache.fetch(fetchOf(['1']), ctxOf(), {}, '{}', send);
    expect(sent).toHaveLength(5);
  });

  it('an answer that varies on an identity header is keyed by it', async () => {
    const { cache, send, sent, set } = setup();
    set('max-age=60, public', 'X-Portico-Tier');
    await cache.fetch(fetchOf(['1']), ctxOf(), { 'x-portico-tier': 'gold' }, '{}', send);
    await cache.fetch(fetchOf(['1']), ctxOf(), { 'x-portico-tier': 'silver' }, '{}', send);
    await cache.fetch(fetchOf(['1']), ctxOf(), { 'x-portico-tier': 'gold' }, '{}', send);
    expect(sent).toHaveLength(2);
  });

  it('an expired entry within stale-while-revalidate is served at once and refreshed once', async () => {
    let t = 1_000_000;
    const { cache, send, sent } = setup(() => t);
    await cache.fetch(fetchOf(['1']), ctxOf(), {}, '{}', send);
    t += 61_000;
    const [a, b] = await Promise.all([cache.fetch(fetchOf(['1']), ctxOf(), {}, '{}', send), cache.fetch(fetchOf(['1']), ctxOf(), {}, '{}', send)]);
    expect((a.data as any)._entities[0].price.amount).toBe(1);
    expect(b).toEqual(a);
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([['1'], ['1']]);
  });

  it('refreshes asked for by several requests in one turn of the event loop go out as one call', async () => {
    let t = 1_000_000;
    const { cache, send, sent } = setup(() => t);
    await cache.fetch(fetchOf(['1', '2', '3']), ctxOf(), {}, '{}', send);
    t += 61_000;
    await Promise.all([cache.fetch(fetchOf(['1', '2']), ctxOf(), {}, '{}', send), cache.fetch(fetchOf(['3', '1']), ctxOf(), {}, '{}', send)]);
    expect(sent).toHaveLength(1);
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([['1', '2', '3'], ['1', '2', '3']]);
    // Refreshed: fresh again, nothing more to send.
    await new Promise((r) => setImmediate(r));
    await cache.fetch(fetchOf(['1', '2', '3']), ctxOf(), {}, '{}', send);
    expect(sent).toHaveLength(2);
  });

  it('a fetch whose clean answers carry no TTL stops asking L1 and Redis (nothing is stored), until one does', async () => {
    let mgets = 0;
    const l2: SharedTier = {
      getMany: async (keys) => (mgets++, { entries: keys.map(() => undefined), failed: false }),
      setMany: async () => true,
      lockMany: async (keys) => keys.map(() => true),
    };
    const misses: number[] = [];
    const observer: CacheObserver = { ...noop, lookup: (_s, _t, result, n) => void (result === 'miss' && misses.push(n)) };
    let cacheControl: string | undefined = undefined;
    let errors = false;
    const sent: string[][] = [];
    const send = async (variables: Record<string, any> | undefined): Promise<FetchOutcome> => {
      const ids = (variables!.representations as { id: string }[]).map((r) => r.id);
      sent.push(ids);
      return { response: { data: { _entities: ids.map((id) => ({ price: { amount: Number(id) } })) }, ...(errors ? { errors: [{ message: 'nope' }] } : {}) }, cacheControl, failed: false };
    };
    const cache = createFetchCache({ policy: { ttls: {}, swrS: 30, staleIfErrorS: 300 } }, { l1: createMemoryTier({ maxEntries: 100, ttlCapMs: undefined }), l2, marks: new InvalidationMarks(), observer });
    // Answers with errors say nothing about cacheability: lookups go on.
    errors = true;
    for (let i = 0; i < UNCACHEABLE_STREAK + 2; i++) await cache.fetch(fetchOf(['1']), ctxOf(), {}, '{}', send);
    expect(mgets).toBe(UNCACHEABLE_STREAK + 2);
    errors = false;
    for (let i = 0; i < UNCACHEABLE_STREAK + 3; i++) await cache.fetch(fetchOf(['1', '2']), ctxOf(), {}, '{}', send);
    expect(mgets).toBe(2 * UNCACHEABLE_STREAK + 2); // the last three were not asked for
    expect(sent).toHaveLength(2 * UNCACHEABLE_STREAK + 5);
    expect(misses.slice(-3)).toEqual([2, 2, 2]); // still counted as misses
    // The subgraph starts sending hints: that answer is kept, lookups are back, the next is a hit.
    cacheControl = 'max-age=60, public';
    await cache.fetch(fetchOf(['1', '2']), ctxOf(), {}, '{}', send);
    const before = sent.length;
    const r = await cache.fetch(fetchOf(['2', '1']), ctxOf(), {}, '{}', send);
    expect(sent).toHaveLength(before);
    expect((r.data as any)._entities.map((e: any) => e.price.amount)).toEqual([2, 1]);
  });
});
