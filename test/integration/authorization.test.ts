import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_JWKS_FILE, signDevToken } from '../../subgraphs-mock/idp.ts';
import { startStack, type Stack } from '../helpers/portico.ts';

const AUTH_ENV = { PORTICO_JWKS_FILE: DEV_JWKS_FILE, PORTICO_JWT_ISSUER: DEV_ISSUER, PORTICO_JWT_AUDIENCE: DEV_AUDIENCE };
const bearer = async (sub: string, scopes: string[] = []) => ({ authorization: `Bearer ${await signDevToken({ sub, scopes })}` });
const ADD_REVIEW = 'mutation { addReview(productId: "1", rating: 5, body: "great") { id rating author } }';

describe('field authorization from the supergraph (filter mode)', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ ...AUTH_ENV });
  });
  afterAll(() => s.stop());
  beforeEach(() => {
    for (const m of Object.values(s.mocks.mocks)) m.resetStats();
  });

  it('@requiresScopes: costPrice is null with FORBIDDEN at every path, the rest answers', async () => {
    const r = await s.gql('{ products(first: 3) { id name price { amount } costPrice { amount } } }', undefined, await bearer('alice', ['review:write']));
    expect(r.status).toBe(200);
    expect(r.body.data.products).toHaveLength(3);
    for (const p of r.body.data.products) {
      expect(p.name).toEqual(expect.any(String));
      expect(p.price.amount).toEqual(expect.any(Number));
      expect(p.costPrice).toBeNull();
    }
    // One error per null field (capped at 10, with the total in pathCount).
    expect(r.body.errors.map((e: any) => e.path)).toEqual([0, 1, 2].map((i) => ['products', i, 'costPrice']));
    for (const e of r.body.errors) {
      expect(e.extensions).toMatchObject({ code: 'FORBIDDEN', pathCount: 3 });
      expect(e.message).toMatch(/Product\.costPrice.*pricing:internal/);
    }
  });

  it('with the scope, costPrice is served', async () => {
    const r = await s.gql('{ products(first: 2) { id costPrice { amount } } }', undefined, await bearer('ivy', ['pricing:internal']));
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.products[0].costPrice.amount).toEqual(expect.any(Number));
  });

  it('anonymous: protected fields answer UNAUTHENTICATED, public ones still work', async () => {
    const r = await s.gql('{ product(id: "1") { name costPrice { amount } } }');
    expect(r.body.data.product.name).toEqual(expect.any(String));
    expect(r.body.data.product.costPrice).toBeNull();
    expect(r.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('a plan built for one permission set is never served to another (same query text)', async () => {
    const q = '{ product(id: "2") { id costPrice { amount } } }';
    const allowed = await s.gql(q, undefined, await bearer('ivy', ['pricing:internal']));
    const denied = await s.gql(q, undefined, await bearer('bob'));
    const allowedAgain = await s.gql(q, undefined, await bearer('ivy', ['pricing:internal']));
    expect(allowed.body.data.product.costPrice).not.toBeNull();
    expect(denied.body.data.product.costPrice).toBeNull();
    expect(allowedAgain.body.data.product.costPrice).toEqual(allowed.body.data.product.costPrice);
  });

  it('addReview without review:write → FORBIDDEN, and the review subgraph sees no call', async () => {
    const r = await s.gql(ADD_REVIEW, undefined, await bearer('mallory', ['pricing:internal']));
    expect(r.body.data).toEqual({ addReview: null });
    expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(s.mocks.mocks.review.stats().requests).toBe(0);
    const anon = await s.gql(ADD_REVIEW);
    expect(anon.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(s.mocks.mocks.review.stats().requests).toBe(0);
  });

  it('addReview with review:write reaches the subgraph once, as the verified author', async () => {
    const r = await s.gql(ADD_REVIEW, undefined, await bearer('alice', ['review:write']));
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.addReview).toMatchObject({ rating: 5, author: 'alice' });
    expect(s.mocks.mocks.review.stats().mutations).toBe(1);
  });
});

describe('reject mode', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ ...AUTH_ENV, PORTICO_AUTHZ_MODE: 'reject' });
  });
  afterAll(() => s.stop());

  it('refuses the whole operation instead of filtering', async () => {
    const r = await s.gql('{ products(first: 1) { name costPrice { amount } } }', undefined, await bearer('bob'));
    expect(r.status).toBe(403);
    expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(r.body.data).toBeUndefined();
  });
});

describe('query hardening before execution', () => {
  let s: Stack;
  beforeAll(async () => {
    // Introspection on (as for a trusted developer): even then a deep introspection query is refused.
    s = await startStack({ NODE_ENV: 'development' });
  });
  afterAll(() => s.stop());
  beforeEach(() => {
    for (const m of Object.values(s.mocks.mocks)) m.resetStats();
  });

  const cases: [string, string, string][] = [
    ['alias bomb', `{ product(id: "1") { ${Array.from({ length: 40 }, (_, i) => `a${i}: name`).join(' ')} } }`, 'TOO_MANY_ALIASES'],
    ['root field flood', `{ ${Array.from({ length: 12 }, (_, i) => `p${i}: product(id: "${i}") { id }`).join(' ')} }`, 'TOO_MANY_ROOT_FIELDS'],
    ['cost bomb', `{ products(first: 1000) { reviews(first: 1000) { id } } }`, 'QUERY_TOO_COMPLEX'],
    ['token flood', `{ products { ${'id '.repeat(3000)} } }`, 'TOO_MANY_TOKENS'],
    ['oversized query', `{ products { id } } # ${'x'.repeat(40_000)}`, 'QUERY_TOO_LARGE'],
  ];
  for (const [name, query, code] of cases) {
    it(`${name} → 400 ${code} with the measured value, no subgraph called`, async () => {
      const r = await s.gql(query);
      expect(r.status).toBe(400);
      expect(r.body.errors[0].extensions.code).toBe(code);
      expect(r.body.errors[0].extensions.measured).toBeGreaterThan(r.body.errors[0].extensions.limit);
      expect(Object.values(s.mocks.mocks).map((m) => m.stats().requests)).toEqual([0, 0, 0, 0]);
    });
  }

  it('an introspection depth bomb is refused too', async () => {
    const r = await s.gql(`{ __schema { types { ${'fields { type { '.repeat(12)}name${' } }'.repeat(12)} } } }`);
    expect(r.status).toBe(400);
    expect(Object.values(s.mocks.mocks).map((m) => m.stats().requests)).toEqual([0, 0, 0, 0]);
  });

  it('a normal query within the limits passes', async () => {
    const r = await s.gql('{ products(first: 20) { id name price { amount } } }');
    expect(r.body.errors).toBeUndefined();
  });
});

describe('depth limit', () => {
  let s: Stack;
  beforeAll(async () => {
    // The demo graph is shallow (3 levels): with a depth limit of 2, a 3-level query is the bomb.
    s = await startStack({ PORTICO_MAX_DEPTH: '2' });
  });
  afterAll(() => s.stop());

  it('a query deeper than the limit → 400 QUERY_TOO_DEEP with the measured depth, no subgraph called', async () => {
    const r = await s.gql('{ products(first: 1) { reviews(first: 1) { id } } }');
    expect(r.status).toBe(400);
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_DEEP', measured: 3, limit: 2 });
    expect(Object.values(s.mocks.mocks).map((m) => m.stats().requests)).toEqual([0, 0, 0, 0]);
    const ok = await s.gql('{ products(first: 1) { id } }');
    expect(ok.body.errors).toBeUndefined();
  });
});
