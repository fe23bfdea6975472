import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_JWKS_FILE, signDevToken } from '../../subgraphs-mock/idp.ts';
import { startStack, type Stack } from '../helpers/portico.ts';

// Inbound dedup on, subgraph dedup off: whatever sharing happens is the inbound kind.
let s: Stack;
beforeAll(async () => {
  s = await startStack({
    PORTICO_INBOUND_DEDUP: 'true',
    PORTICO_SUBGRAPH_DEDUP: 'false',
    PORTICO_JWKS_FILE: DEV_JWKS_FILE,
    PORTICO_JWT_ISSUER: DEV_ISSUER,
    PORTICO_JWT_AUDIENCE: DEV_AUDIENCE,
  });
});
afterAll(() => s.stop());
beforeEach(() => {
  for (const m of Object.values(s.mocks.mocks)) {
    m.resetStats();
    m.faults.set({ latencyMs: 150 });
  }
});

const Q = '{ products(first: 3) { id name price { amount } costPrice { amount } } }';

it('20 identical concurrent queries execute once and all get the same answer', async () => {
  const rs = await Promise.all(Array.from({ length: 20 }, () => s.gql(Q)));
  expect(new Set(rs.map((r) => JSON.stringify(r.body))).size).toBe(1);
  // costPrice is filtered for anonymous callers: exactly one error per path, not one per copy.
  expect(rs[7]!.body.errors).toHaveLength(3);
  expect(s.mocks.mocks.product.stats().requests).toBe(1);
  expect(s.mocks.mocks.pricing.stats().requests).toBe(1);
});

it('different identities never share an answer', async () => {
  const alice = { authorization: `Bearer ${await signDevToken({ sub: 'alice', scopes: ['pricing:internal'] })}` };
  const [anon, withScope] = await Promise.all([s.gql(Q), s.gql(Q, undefined, alice)]);
  expect(anon.body.data.products[0].costPrice).toBeNull();
  expect(withScope.body.data.products[0].costPrice).not.toBeNull();
  expect(s.mocks.mocks.product.stats().requests).toBe(2);
});

it('mutations are never shared', async () => {
  const token = { authorization: `Bearer ${await signDevToken({ sub: 'alice', scopes: ['review:write'] })}` };
  const m = 'mutation { addReview(productId: "1", rating: 4, body: "same") { id } }';
  const rs = await Promise.all(Array.from({ length: 3 }, () => s.gql(m, undefined, token)));
  expect(new Set(rs.map((r) => r.body.data.addReview.id)).size).toBe(3);
  expect(s.mocks.mocks.review.stats().mutations).toBe(3);
});
