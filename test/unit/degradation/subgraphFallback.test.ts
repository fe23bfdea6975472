import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { StaleWriteSampler } from '../../../src/degradation/staleSampler.ts';
import { createMemoryStaleStore, type StaleStore } from '../../../src/degradation/staleStore.ts';
import { createSubgraphFallback } from '../../../src/degradation/subgraphFallback.ts';
import type { DegradedFetch, FetchFacts } from '../../../src/degradation/types.ts';

const QUERY = 'query($representations:[_Any!]!){_entities(representations:$representations){...on Review{body}}}';
const document = parse(QUERY);
const shape = { kind: 'entity', fields: ['body'], typenames: ['Review'], coordinates: ['Review.body'] } as const;
const reps = [
  { __typename: 'Review', id: '1' },
  { __typename: 'Review', id: '2' },
];

function fetchFacts(fallback: 'null' | 'stale', representations = reps): FetchFacts {
  return { key: 'review:Review', fallback, shape, document, query: QUERY, variables: { representations } };
}

const failure = { code: 'SUBGRAPH_TIMEOUT', reason: 'timed out after 300 ms' };
const settle = () => new Promise((r) => setImmediate(r));

describe('createSubgraphFallback', () => {
  it('null fallback: nulls and a record of the failed fetch, nothing read or kept', async () => {
    let reads = 0;
    let writes = 0;
    const stale: StaleStore = { kind: 'memory', getMany: async (k) => (reads++, k.map(() => undefined)), setMany: async () => void writes++ };
    const fallback = createSubgraphFallback({ service: 'review' }, { stale });
    fallback.remember(fetchFacts('null'), { data: { _entities: [{ body: 'a' }, { body: 'b' }] } });
    const degraded: DegradedFetch[] = [];
    const response = await fallback.degrade(fetchFacts('null'), failure, ['product', 'reviews', '@'], degraded);
    expect(response).toEqual({ data: { _entities: [null, null] } });
    expect({ reads, writes }).toEqual({ reads: 0, writes: 0 });
    expect(degraded).toEqual([
      {
        service: 'review',
        key: 'review:Review',
        code: 'SUBGRAPH_TIMEOUT',
        reason: 'timed out after 300 ms',
        pathPattern: ['product', 'reviews', '@'],
        fields: ['body'],
        typenames: ['Review'],
        coordinates: ['Review.body'],
        stale: false,
      },
    ]);
  });

  it('stale fallback: a kept entity answers the next failure, the others stay null', async () => {
    const fallback = createSubgraphFallback({ service: 'review' }, { stale: createMemoryStaleStore() });
    fallback.remember(fetchFacts('stale', [reps[0]!]), { data: { _entities: [{ body: 'kept' }] } });
    await settle();
    const degraded: DegradedFetch[] = [];
    const response = await fallback.degrade(fetchFacts('stale'), failure, [], degraded);
    expect(response).toEqual({ data: { _entities: [{ body: 'kept' }, null] } });
    expect(degraded[0]?.stale).toBe(true);
  });

  it('good answers are kept sampled, per scope', async () => {
    let now = 0;
    const store = createMemoryStaleStore();
    const fallback = createSubgraphFallback({ service: 'review' }, { stale: store, sampler: new StaleWriteSampler(1_000, 100, () => now) });
    const one = fetchFacts('stale', [reps[0]!]);
    fallback.remember(one, { data: { _entities: [{ body: 'first' }] } });
    now = 500;
    fallback.remember(one, { data: { _entities: [{ body: 'second' }] } });
    await settle();
    expect((await fallback.degrade(one, failure, [], [])).data).toEqual({ _entities: [{ body: 'first' }] });
    now = 1_000;
    fallback.remember(one, { data: { _entities: [{ body: 'third' }] } });
    await settle();
    expect((await fallback.degrade(one, failure, [], [])).data).toEqual({ _entities: [{ body: 'third' }] });
  });

  it('a store that fails is a miss: nulls, not an error', async () => {
    const stale: StaleStore = { kind: 'redis', getMany: () => Promise.reject(new Error('down')), setMany: () => Promise.reject(new Error('down')) };
    const fallback = createSubgraphFallback({ service: 'review' }, { stale });
    fallback.remember(fetchFacts('stale'), { data: { _entities: [{ body: 'a' }, { body: 'b' }] } });
    const degraded: DegradedFetch[] = [];
    expect(await fallback.degrade(fetchFacts('stale'), failure, [], degraded)).toEqual({ data: { _entities: [null, null] } });
    expect(degraded[0]?.stale).toBe(false);
  });
});
