import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStack, type GqlResult, type Stack } from '../helpers/portico.ts';
import { until } from '../../devkit/wait.ts';

/** Every response of this suite, scanned at the end for leaked internals. */
const seen: GqlResult[] = [];
async function ask(s: Stack, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) {
  const r = await s.gql(query, variables, headers);
  seen.push(r);
  return r;
}

const PAGE = `query Page($first: Int = 5, $category: String) {
  products(first: $first, category: $category) { id name price { amount currency } inventory { inStock quantity } reviews(first: 2) { id rating } averageRating }
}`;

function breaker(s: Stack, key: string) {
  return s.gw.portico.parts.breakers.snapshot().find((b) => b.key === key);
}

describe('partial results', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ NODE_ENV: 'production', PORTICO_SUBGRAPH_TIMEOUT_MS: '300', PORTICO_BREAKER_VOLUME_THRESHOLD: '1000' });
  });
  afterAll(() => s.stop());
  beforeEach(() => {
    for (const m of Object.values(s.mocks.mocks)) {
      m.faults.reset();
      m.resetStats();
    }
  });

  it('pricing refused: only price is null, one coded error with response-shaped paths', async () => {
    s.mocks.mocks.pricing.faults.set({ mode: 'refuse' });
    const r = await ask(s, PAGE, { first: 15 });
    expect(r.status).toBe(200);
    const products = r.body.data.products;
    expect(products).toHaveLength(15);
    for (const p of products) {
      expect(p.name).toEqual(expect.any(String));
      expect(p.price).toBeNull();
      expect(p.inventory).not.toBeNull();
      expect(p.reviews.length).toBeGreaterThan(0);
      expect(p.averageRating).not.toBeNull();
    }
    expect(r.body.errors).toHaveLength(1);
    const [e] = r.body.errors!;
    expect(e.extensions.code).toBe('SUBGRAPH_UNAVAILABLE');
    expect(e.extensions.serviceName).toBe('pricing');
    expect(e.path).toEqual(['products', 0, 'price']);
    // Long lists: paths are capped at 10, the count tells how many there were.
    expect(e.extensions.affectedPaths).toHaveLength(10);
    expect(e.extensions.affectedPaths[9]).toEqual(['products', 9, 'price']);
    expect(e.extensions.affectedPathCount).toBe(15);
    expect(r.body.extensions.degraded).toEqual([
      { service: 'pricing', code: 'SUBGRAPH_UNAVAILABLE', reason: 'connection reset', fields: ['Product.price'], count: 15, stale: false },
    ]);
  });

  it('pricing slow (5 s) with a 300 ms timeout: answers without waiting, and the socket is aborted', async () => {
    s.mocks.mocks.pricing.faults.set({ latencyMs: 5_000 });
    const started = Date.now();
    const r = await ask(s, PAGE, { first: 3 });
    // Logical bound (the subgraph would take 5 s), not a performance assertion.
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(r.body.errors?.[0].extensions.code).toBe('SUBGRAPH_TIMEOUT');
    expect(r.body.errors?.[0].message).toMatch(/timed out after 300 ms/);
    expect(r.body.data.products[0].name).toEqual(expect.any(String));
    // The mock sees the client (the gateway) go away: the HTTP request was really aborted.
    await until('the pricing mock to see the abort', () => s.mocks.mocks.pricing.stats().aborted >= 1);
    // Timeouts are not retried.
    expect(s.mocks.mocks.pricing.stats().requests).toBe(1);
  });

  it('a connection failure of a query is retried once', async () => {
    s.mocks.mocks.inventory.faults.set({ mode: 'refuse' });
    const r = await ask(s, PAGE, { first: 2 });
    expect(r.body.errors?.[0].extensions.serviceName).toBe('inventory');
    expect(s.mocks.mocks.inventory.stats().requests).toBe(2);
  });

  it('502 with an HTML body: masked SUBGRAPH_ERROR, HTTP 200, no trace of the body', async () => {
    s.mocks.mocks.pricing.faults.set({ httpStatus: 502 });
    const r = await ask(s, PAGE, { first: 2 });
    expect(r.status).toBe(200);
    expect(r.body.errors?.[0].extensions.code).toBe('SUBGRAPH_ERROR');
    expect(JSON.stringify(r.body)).not.toMatch(/html|Bad Gateway/i);
  });

  it('truncated JSON: masked SUBGRAPH_ERROR, HTTP 200', async () => {
    s.mocks.mocks.review.faults.set({ mode: 'garbage' });
    const r = await ask(s, PAGE, { first: 2 });
    expect(r.status).toBe(200);
    const e = r.body.errors.find((x: any) => x.extensions.serviceName === 'review');
    expect(e.extensions.code).toBe('SUBGRAPH_ERROR');
    expect(e.message).toMatch(/not JSON/);
    expect(r.body.data.products[0].price).not.toBeNull();
    expect(r.body.data.products[0].reviews).toBeNull();
  });
});

describe('circuit breaker per field group', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({
      PORTICO_BREAKER_VOLUME_THRESHOLD: '5',
      PORTICO_BREAKER_WINDOW_MS: '1000',
      PORTICO_BREAKER_RESET_MS: '1000',
      PORTICO_BREAKER_ERROR_PERCENT: '50',
      PORTICO_SUBGRAPH_DEDUP: 'false',
      PORTICO_SUBGRAPH_RETRY: 'false',
    });
  });
  afterAll(() => s.stop());
  beforeEach(async () => {
    for (const m of Object.values(s.mocks.mocks)) {
      m.faults.reset();
      m.resetStats();
    }
  });

  it('opens after the volume threshold, fails fast, probes once half-open, closes when healthy', async () => {
    const pricing = s.mocks.mocks.pricing;
    pricing.faults.set({ mode: 'refuse' });
    for (let i = 0; i < 5; i++) await ask(s, PAGE, { first: 1 + i });
    await until('pricing:Product to open', () => breaker(s, 'pricing:Product')?.state === 'open');
    const calls = pricing.stats().requests;
    for (let i = 0; i < 10; i++) {
      const r = await ask(s, PAGE, { first: 1 + i });
      expect(r.body.errors?.[0].extensions.code).toBe('SUBGRAPH_CIRCUIT_OPEN');
      expect(r.body.data.products[0].name).toEqual(expect.any(String));
    }
    // Open: pricing is not called at all.
    expect(pricing.stats().requests).toBe(calls);

    pricing.faults.reset();
    await until('pricing:Product to go half-open', () => breaker(s, 'pricing:Product')?.state === 'half-open', 5_000);
    pricing.faults.set({ latencyMs: 200 });
    const burst = await Promise.all(Array.from({ length: 5 }, (_, i) => ask(s, PAGE, { first: 10 + i })));
    // Exactly one probe reached pricing; the others failed fast while it was out.
    expect(pricing.stats().requests).toBe(calls + 1);
    expect(burst.filter((r) => r.body.errors === undefined)).toHaveLength(1);
    await until('pricing:Product to close', () => breaker(s, 'pricing:Product')?.state === 'closed');
    pricing.faults.reset();
    const ok = await ask(s, PAGE, { first: 3 });
    expect(ok.body.errors).toBeUndefined();
  });

  it('one failure at low traffic does not open the breaker; 4xx does not count', async () => {
    const inventory = s.mocks.mocks.inventory;
    inventory.faults.set({ mode: 'refuse' });
    await ask(s, PAGE, { first: 1 });
    inventory.faults.set({ httpStatus: 400 });
    for (let i = 0; i < 12; i++) await ask(s, PAGE, { first: 1 + i });
    expect(breaker(s, 'inventory:Product')?.state).toBe('closed');
    expect(breaker(s, 'inventory:Product')?.window.failures).toBeLessThanOrEqual(1);
  });

  it('a failing review:Product group leaves the review root field working', async () => {
    // The entity group breaks (forced open); the review subgraph itself is healthy.
    s.gw.portico.parts.breakers.force('review:Product', 'open');
    try {
      const r = await ask(s, `{ products(first: 2) { name reviews { id } } latestReviews(first: 2) { id rating } }`);
      expect(r.body.data.latestReviews).toHaveLength(2);
      expect(r.body.data.products[0].reviews).toBeNull();
      expect(r.body.errors?.[0].extensions.code).toBe('SUBGRAPH_CIRCUIT_OPEN');
      expect(breaker(s, 'review:Query.latestReviews')?.state).toBe('closed');
    } finally {
      s.gw.portico.parts.breakers.force('review:Product', 'auto');
    }
  });
});

describe('per-key timeouts, bulkhead, dedup, stale fallback, mutations', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({
      PORTICO_FALLBACKS: 'review:Product=stale',
      PORTICO_SUBGRAPH_TIMEOUTS: 'review:Product=250',
      PORTICO_SUBGRAPH_MAX_INFLIGHT: '4',
      PORTICO_BREAKER_VOLUME_THRESHOLD: '1000',
    });
  });
  afterAll(() => s.stop());
  beforeEach(() => {
    for (const m of Object.values(s.mocks.mocks)) {
      m.faults.reset();
      m.resetStats();
    }
  });

  it('a slow review subgraph times out Product.reviews (250 ms) but not the review root field (default)', async () => {
    s.mocks.mocks.review.faults.set({ latencyMs: 600 });
    const r = await ask(s, `{ products(first: 2) { id reviews { id } } latestReviews(first: 1) { id } }`);
    expect(r.body.data.latestReviews).toHaveLength(1);
    const e = r.body.errors.find((x: any) => x.extensions.breakerKey === 'review:Product');
    expect(e.extensions.code).toBe('SUBGRAPH_TIMEOUT');
  });

  it('stale fallback: reviews killed after a warm request come back from the last good values, marked stale', async () => {
    const warm = await ask(s, PAGE, { first: 4, category: 'books' });
    expect(warm.body.errors).toBeUndefined();
    s.mocks.mocks.review.faults.set({ mode: 'refuse' });
    const r = await ask(s, PAGE, { first: 4, category: 'books' });
    expect(r.body.data.products.map((p: any) => p.reviews)).toEqual(warm.body.data.products.map((p: any) => p.reviews));
    const e = r.body.errors![0];
    expect(e.extensions.stale).toBe(true);
    expect(r.body.extensions.degraded[0]).toMatchObject({ service: 'review', stale: true });
    // Pricing has no stale fallback configured: when it fails, prices are null, never stale.
    s.mocks.mocks.pricing.faults.set({ mode: 'refuse' });
    const r2 = await ask(s, PAGE, { first: 4, category: 'books' });
    expect(r2.body.data.products[0].price).toBeNull();
  });

  it('a stale value answers only the fetch it came from: reviews(first: 1) never answers reviews(first: 2)', async () => {
    const one = `{ products(first: 2, category: "garden") { id reviews(first: 1) { id } } }`;
    const two = `{ products(first: 2, category: "garden") { id reviews(first: 2) { id } } }`;
    const warm = await ask(s, one);
    expect(warm.body.errors).toBeUndefined();
    for (const p of warm.body.data.products) expect(p.reviews).toHaveLength(1);
    s.mocks.mocks.review.faults.set({ mode: 'refuse' });
    const same = await ask(s, one);
    expect(same.body.data.products).toEqual(warm.body.data.products);
    expect(same.body.errors[0].extensions.stale).toBe(true);
    const other = await ask(s, two);
    for (const p of other.body.data.products) expect(p.reviews).toBeNull();
    expect(other.body.errors[0].extensions.stale).toBeUndefined();
    expect(other.body.extensions.degraded[0]).toMatchObject({ service: 'review', stale: false });
  });

  it('bulkhead: concurrent calls over the cap fail fast into the degraded shape', async () => {
    s.mocks.mocks.pricing.faults.set({ latencyMs: 300 });
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => ask(s, PAGE, { first: 1 + i })));
    const rejected = rs.filter((r) => r.body.errors?.some((e: any) => /too many concurrent requests/.test(e.message)));
    expect(rejected.length).toBeGreaterThan(0);
    expect(s.mocks.mocks.pricing.stats().requests).toBeLessThanOrEqual(4);
    for (const r of rejected) expect(r.body.errors?.[0].extensions.code).toBe('SUBGRAPH_UNAVAILABLE');
  });

  it('dedup: 20 identical concurrent queries cost one call per subgraph', async () => {
    for (const m of Object.values(s.mocks.mocks)) m.faults.set({ latencyMs: 150 });
    const rs = await Promise.all(Array.from({ length: 20 }, () => ask(s, PAGE, { first: 3 })));
    for (const r of rs) expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    expect(new Set(rs.map((r) => JSON.stringify(r.body.data))).size).toBe(1);
    expect(s.mocks.mocks.product.stats().requests).toBe(1);
    expect(s.mocks.mocks.pricing.stats().requests).toBe(1);
  });

  it('a mutation against a connection-resetting subgraph reaches it at most once', async () => {
    s.mocks.mocks.review.faults.set({ mode: 'refuse' });
    const r = await ask(s, 'mutation { addReview(productId: "1", rating: 4, body: "ok") { id } }');
    expect(r.body.data?.addReview ?? null).toBeNull();
    expect(s.mocks.mocks.review.stats().requests).toBeLessThanOrEqual(1);
  });
});

afterAll(() => {
  // No response of this suite leaks a URL, an address, a stack or the gateway's internal paths.
  const errors = seen.flatMap((r) => r.body.errors ?? []);
  expect(errors.length).toBeGreaterThan(10);
  const text = JSON.stringify(seen.map((r) => r.body));
  expect(text).not.toMatch(/https?:\/\//);
  expect(text).not.toMatch(/127\.0\.0\.1|localhost|\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d+/);
  expect(text).not.toMatch(/stacktrace|\n\s+at |ECONN|UND_ERR/);
  expect(text).not.toContain('_entities');
  expect(text).not.toContain('"@"');
});
