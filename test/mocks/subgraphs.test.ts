/**
 * Each mock subgraph answers its schema over real HTTP, batches entity lookups, and serves the
 * same seeded data on every start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_NAMES, PRODUCT_COUNT, buildCatalog, catalog, startAllMocks, startMock, useCatalogSize } from '../../subgraphs-mock/index.ts';
import type { RunningMocks } from '../../subgraphs-mock/index.ts';
import { control, gql, productReps } from '../helpers/mockHttp.ts';

const ALL_ON_FREE_PORTS = { product: 0, pricing: 0, inventory: 0, review: 0 };

let all: RunningMocks;
beforeAll(async () => {
  all = await startAllMocks({ ports: ALL_ON_FREE_PORTS, faultsFromEnv: false });
});
afterAll(async () => {
  await all.stop();
});

const ENTITIES = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id SELECTION } } }';
const entities = (selection: string): string => ENTITIES.replace('SELECTION', selection);

describe('product subgraph', () => {
  it('answers product and products with filtering and slicing', async () => {
    const { status, body } = await gql(
      all.mocks.product.url,
      '{ product(id: "1") { id name description category } missing: product(id: "99999") { id } page: products(first: 3, offset: 2) { id } books: products(first: 500, category: "books") { category } all: products { id } }',
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.product).toMatchObject({ id: '1', name: expect.any(String), description: expect.any(String) });
    expect(body.data.missing).toBeNull();
    expect(body.data.page.map((p: { id: string }) => p.id)).toEqual(['3', '4', '5']);
    expect(body.data.books.length).toBeGreaterThan(0);
    expect(body.data.books.every((p: { category: string }) => p.category === 'books')).toBe(true);
    expect(body.data.all).toHaveLength(20); // SDL default first = 20
  });

  it('rejects a negative first with BAD_USER_INPUT', async () => {
    const { body } = await gql(all.mocks.product.url, '{ products(first: -1) { id } }');
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('resolves 20 entities with one backend lookup', async () => {
    all.mocks.product.resetStats();
    const { body } = await gql(all.mocks.product.url, entities('name category'), { r: productReps(20) });
    expect(body.data._entities).toHaveLength(20);
    expect(body.data._entities[19].id).toBe('20');
    expect(all.mocks.product.stats()).toMatchObject({ graphqlRequests: 1, backendLookups: 1 });
  });
});

describe('pricing subgraph', () => {
  it('adds price and costPrice to Product, 20 entities in one lookup', async () => {
    all.mocks.pricing.resetStats();
    const { body } = await gql(all.mocks.pricing.url, entities('price { amount currency } costPrice { amount currency }'), {
      r: productReps(20),
    });
    expect(body.errors).toBeUndefined();
    const first = body.data._entities[0];
    expect(first.price.currency).toBe('USD');
    expect(first.costPrice.amount).toBeLessThan(first.price.amount);
    expect(all.mocks.pricing.stats().backendLookups).toBe(1);
  });

  it('answers null for an unknown product', async () => {
    const { body } = await gql(all.mocks.pricing.url, entities('price { amount }'), { r: [{ __typename: 'Product', id: 'nope' }] });
    expect(body.data._entities).toEqual([null]);
  });
});

describe('inventory subgraph', () => {
  it('adds inventory to Product, 20 entities in one lookup', async () => {
    all.mocks.inventory.resetStats();
    const { body } = await gql(all.mocks.inventory.url, entities('inventory { inStock quantity warehouse }'), { r: productReps(20) });
    expect(body.errors).toBeUndefined();
    for (const p of body.data._entities) expect(p.inventory.inStock).toBe(p.inventory.quantity > 0);
    expect(all.mocks.inventory.stats().backendLookups).toBe(1);
  });
});

describe('review subgraph', () => {
  it('adds reviews and averageRating to Product, 20 entities in one lookup', async () => {
    all.mocks.review.resetStats();
    const { body } = await gql(all.mocks.review.url, entities('reviews(first: 2) { id rating body author } averageRating'), {
      r: productReps(20),
    });
    expect(body.errors).toBeUndefined();
    const first = body.data._entities[0];
    expect(first.reviews).toHaveLength(2);
    expect(first.reviews[0].id).toMatch(/^r\d+$/);
    const own = catalog().reviews.filter((r) => r.productId === '1');
    const mean = own.reduce((s, r) => s + r.rating, 0) / own.length;
    expect(first.averageRating).toBeCloseTo(mean, 2);
    expect(all.mocks.review.stats().backendLookups).toBe(1);
  });

  it('resolves Review entities and latestReviews (newest first)', async () => {
    const { body } = await gql(
      all.mocks.review.url,
      '{ latestReviews(first: 3) { id } _entities(representations: [{ __typename: "Review", id: "r1" }]) { ... on Review { id rating author } } }',
    );
    const seeded = catalog().reviews;
    expect(body.data.latestReviews.map((r: { id: string }) => r.id)).toEqual(
      seeded.slice(-3).reverse().map((r) => r.id),
    );
    expect(body.data._entities[0]).toMatchObject({ id: 'r1', rating: seeded[0]?.rating, author: seeded[0]?.author });
  });

  it('addReview appends in memory, counts a mutation, takes the author from the forwarded header', async () => {
    // A private instance: mutations must not leak into the shared mocks' data.
    const review = await startMock('review');
    try {
      const { body } = await gql(
        review.url,
        'mutation { addReview(productId: "7", rating: 5, body: "Superb") { id rating body author } }',
        undefined,
        { headers: { 'x-portico-subject': 'user-42' } },
      );
      expect(body.errors).toBeUndefined();
      const added = body.data.addReview;
      expect(added).toMatchObject({ id: `r${catalog().reviews.length + 1}`, rating: 5, body: 'Superb', author: 'user-42' });
      expect(review.stats().mutations).toBe(1);

      const after = await gql(
        review.url,
        '{ latestReviews(first: 1) { id } _entities(representations: [{ __typename: "Product", id: "7" }]) { ... on Product { reviews(first: 10) { id } } } }',
      );
      expect(after.body.data.latestReviews[0].id).toBe(added.id);
      expect(after.body.data._entities[0].reviews.map((r: { id: string }) => r.id)).toContain(added.id);

      const bad = await gql(review.url, 'mutation { addReview(productId: "7", rating: 9, body: "x") { id } }');
      expect(bad.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(review.stats().mutations).toBe(1);
    } finally {
      await review.stop();
    }
  });
});

describe('data', () => {
  it('is deterministic: fresh builds and fresh starts give the same product 1', async () => {
    const a = buildCatalog();
    const b = buildCatalog();
    expect(a.products).toHaveLength(PRODUCT_COUNT);
    expect(a.products[PRODUCT_COUNT - 1]?.id).toBe(String(PRODUCT_COUNT));
    expect(b).toEqual(a);
    // Pinned values: a change of seed or generator must be deliberate, since tests elsewhere rely on them.
    expect(a.productsById.get('1')).toMatchObject({ name: 'Portable Bottle 1', category: 'sports' });
    expect(a.pricesById.get('1')?.price).toEqual({ amount: 144.89, currency: 'USD' });

    const query = entities('name description category');
    const answers = [];
    for (let i = 0; i < 2; i++) {
      const mock = await startMock('product');
      try {
        answers.push((await gql(mock.url, query, { r: productReps(1) })).body);
      } finally {
        await mock.stop();
      }
    }
    expect(answers[1]).toEqual(answers[0]);
  });

  it('a longer catalogue (the cache benchmark\'s 10,000 products) starts with exactly the default one', () => {
    const small = buildCatalog();
    const large = buildCatalog(undefined, 10_000);
    expect(large.products).toHaveLength(10_000);
    expect(large.products.slice(0, PRODUCT_COUNT)).toEqual(small.products);
    expect(large.reviews.slice(0, small.reviews.length)).toEqual(small.reviews);
    expect(large.pricesById.get(String(PRODUCT_COUNT))).toEqual(small.pricesById.get(String(PRODUCT_COUNT)));
    expect(large.pricesById.get('10000')?.price.currency).toBe('USD');
    expect(() => useCatalogSize(0)).toThrow(/from 1 to/);
  });

  it('gives every product 2–6 reviews', () => {
    const counts = new Map<string, number>();
    for (const r of catalog().reviews) counts.set(r.productId, (counts.get(r.productId) ?? 0) + 1);
    expect(counts.size).toBe(PRODUCT_COUNT);
    for (const n of counts.values()) expect(n >= 2 && n <= 6).toBe(true);
  });
});

describe('stats', () => {
  it('records request headers for forwarding checks, resets on DELETE /stats', async () => {
    const mock = all.mocks.inventory;
    await control(mock, 'DELETE', '/stats');
    await gql(mock.url, '{ __typename }', undefined, { headers: { 'x-request-id': 'req-123' } });
    const { status, body } = await control(mock, 'GET', '/stats');
    expect(status).toBe(200);
    expect(body).toMatchObject({ requests: 1, graphqlRequests: 1, inFlight: 0, aborted: 0, refused: 0 });
    expect(body.recentHeaders.at(-1)['x-request-id']).toBe('req-123');
    expect((await control(mock, 'DELETE', '/stats')).body).toMatchObject({ requests: 0, recentHeaders: [] });
  });

  it('keeps only the last 50 header objects, oldest first', async () => {
    const mock = all.mocks.product;
    mock.resetStats();
    for (let i = 0; i < 55; i++) {
      await gql(mock.url, '{ __typename }', undefined, { headers: { 'x-seq': String(i) } });
    }
    const headers = mock.stats().recentHeaders;
    expect(headers).toHaveLength(50);
    expect(headers[0]?.['x-seq']).toBe('5');
    expect(headers[49]?.['x-seq']).toBe('54');
  });
});

describe('lifecycle', () => {
  it('exposes all four mocks on distinct free ports; stop is idempotent', async () => {
    expect(Object.keys(all.mocks).sort()).toEqual([...MOCK_NAMES].sort());
    expect(new Set(MOCK_NAMES.map((n) => all.mocks[n].port)).size).toBe(4);
    const mock = await startMock('pricing');
    await Promise.all([mock.stop(), mock.stop()]);
    await mock.stop();
    await expect(fetch(mock.url, { method: 'POST', signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
  });
});
