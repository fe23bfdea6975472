import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../../devkit/redis.ts';
import { until } from '../../devkit/wait.ts';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_JWKS_FILE, signDevToken } from '../../subgraphs-mock/idp.ts';
import { startAllMocks, subgraphUrlOverrides, type RunningMocks } from '../../subgraphs-mock/index.ts';
import { gql, startPortico, type RunningPortico } from '../helpers/portico.ts';

/**
 * What a cache hit costs, with real parts (the demo mocks sending their cache hints, a real
 * redis-server): an L1 hit sends Redis nothing, and an anonymous page asked again is answered
 * whole, without executing anything, while nothing the rules of point 5 forbid is kept.
 */

const PAGE = (first: number) => `{ products(first: ${first}) { id name price { amount currency } inventory { inStock quantity } reviews(first: 3) { id rating } averageRating } }`;
const ADMIN = 'cache-hot-path-admin-token-0123456789';
/** Inventory's 5 s hint could expire between steps on a busy machine: a minute instead. */
const STEADY = { PORTICO_CACHE_TTLS: 'inventory=60' };
const AUTH_ENV = { PORTICO_JWKS_FILE: DEV_JWKS_FILE, PORTICO_JWT_ISSUER: DEV_ISSUER, PORTICO_JWT_AUDIENCE: DEV_AUDIENCE };

let mocks: RunningMocks | undefined;
let redis: RunningRedis | undefined;
let admin: Redis | undefined;
let gw: RunningPortico | undefined;

async function stack(env: Record<string, string>, withRedis = false): Promise<RunningPortico> {
  mocks = await startAllMocks({ ports: { product: 0, pricing: 0, inventory: 0, review: 0 }, faultsFromEnv: false, cacheHints: true });
  if (withRedis) {
    redis = await startRedis();
    admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await admin.connect();
  }
  const overrides = Object.entries(subgraphUrlOverrides(mocks.mocks)).map(([k, v]) => `${k}=${v}`).join(',');
  gw = await startPortico({ PORTICO_SUBGRAPH_URLS: overrides, PORTICO_RATE_LIMIT_ENABLED: 'false', PORTICO_ADMIN_TOKEN: ADMIN, ...(redis ? { PORTICO_REDIS_URL: redis.url } : {}), ...env });
  if (redis) await until('the cache connected to Redis', async () => (await health()).gateway.cache.redis === 'connected', 10_000, 20);
  return gw;
}

async function health(): Promise<any> {
  return (await fetch(`${gw!.opsUrl}/health/subgraphs`)).json();
}

function calls(): number {
  return (['product', 'pricing', 'inventory', 'review'] as const).reduce((n, name) => n + mocks!.mocks[name].stats().graphqlRequests, 0);
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${gw!.opsUrl}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) && want.every((w) => line.includes(w))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** Calls of each cache command Redis has served since it started. */
async function redisCalls(): Promise<Record<'mget' | 'set' | 'get', number>> {
  const info = await admin!.info('commandstats');
  const read = (cmd: string) => Number(new RegExp(`^cmdstat_${cmd}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { mget: read('mget'), set: read('set'), get: read('get') };
}

afterEach(async () => {
  await gw?.stop();
  gw = undefined;
  admin?.disconnect();
  admin = undefined;
  await mocks?.stop();
  mocks = undefined;
  await redis?.stop();
  redis = undefined;
});

describe('cache hot path', () => {
  it('an L1 hit sends Redis no command; an L1 miss asks in one MGET per fetch', async () => {
    // Signed in, so the whole-response level (anonymous only) stays out of the way: this is the per-fetch path.
    await stack({ ...STEADY, ...AUTH_ENV }, true);
    const alice = { authorization: `Bearer ${await signDevToken({ sub: 'alice' })}` };
    const first = await gql(gw!.graphqlUrl, PAGE(5), undefined, alice);
    expect(first.body.errors).toBeUndefined();
    // The writes are not awaited by the answer: wait until all three entity fetches' have landed.
    await until('the writes landed in Redis', async () => (await redisCalls()).set >= 1 && (await admin!.dbsize()) >= 3 * 5 + 1, 5_000, 20);
    const before = await redisCalls();
    const hits = await metric('portico_cache_lookups_total', { result: 'hit' });
    const warm = await gql(gw!.graphqlUrl, PAGE(5), undefined, alice);
    expect(warm.body).toEqual(first.body);
    expect(await metric('portico_cache_lookups_total', { result: 'hit' })).toBe(hits + 3 * 5 + 1);
    expect(await redisCalls()).toEqual(before);

    // Two new products: each subgraph's fetch asks Redis once (one MGET), for the root and the misses.
    const seven = await gql(gw!.graphqlUrl, PAGE(7), undefined, alice);
    expect(seven.body.errors).toBeUndefined();
    expect((await redisCalls()).mget - before.mget).toBe(4);
  });

  it('an anonymous page asked again is answered whole: no subgraph call, no per-fetch lookup, a GET keeps its Cache-Control', async () => {
    await stack(STEADY);
    const first = await gql(gw!.graphqlUrl, PAGE(5));
    expect(first.body.errors).toBeUndefined();
    const before = { calls: calls(), lookups: await metric('portico_cache_lookups_total', {}), hits: await metric('portico_cache_responses_total', { result: 'hit' }) };
    const again = await gql(gw!.graphqlUrl, PAGE(5));
    expect(again.body).toEqual(first.body);
    expect(calls()).toBe(before.calls);
    expect(await metric('portico_cache_lookups_total', {})).toBe(before.lookups);
    expect(await metric('portico_cache_responses_total', { result: 'hit' })).toBe(before.hits + 1);
    const get = await fetch(`${gw!.graphqlUrl}?query=${encodeURIComponent(PAGE(5))}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(((await get.json()) as any).data).toEqual(first.body.data);
    const maxAge = Number(/^max-age=(\d+), public$/.exec(get.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(30);
    expect(maxAge).toBeLessThanOrEqual(60);
    expect((await health()).gateway.cache.responses).toMatchObject({ hits: 2, entries: 1 });
    // Other variables are another answer.
    const other = await gql(gw!.graphqlUrl, 'query($n: Int!) { products(first: $n) { id name } }', { n: 2 });
    expect(other.body.data.products).toHaveLength(2);
  });

  it('an invalidation drops the whole answer too', async () => {
    await stack(STEADY);
    const q = '{ product(id: "1") { id name price { amount } } }';
    await gql(gw!.graphqlUrl, q);
    await gql(gw!.graphqlUrl, q);
    const pricing = mocks!.mocks.pricing.stats().graphqlRequests;
    const res = await fetch(`${gw!.opsUrl}/admin/cache/invalidate`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ type: 'Product', key: { id: '1' } }) });
    expect(res.status).toBe(200);
    const after = await gql(gw!.graphqlUrl, q);
    expect(after.body.errors).toBeUndefined();
    expect(mocks!.mocks.pricing.stats().graphqlRequests).toBe(pricing + 1);
  });

  it('degraded, private and signed-in answers are never kept whole', async () => {
    await stack({ ...STEADY, ...AUTH_ENV });
    mocks!.mocks.pricing.faults.set({ mode: 'refuse' });
    const down = await gql(gw!.graphqlUrl, PAGE(2));
    expect(down.body.extensions?.degraded).toBeDefined();
    const hits = await metric('portico_cache_responses_total', { result: 'hit' });
    mocks!.mocks.pricing.faults.reset();
    const back = await gql(gw!.graphqlUrl, PAGE(2));
    expect(back.body.extensions?.degraded).toBeUndefined();
    expect(back.body.data.products[0].price).not.toBeNull();
    expect(await metric('portico_cache_responses_total', { result: 'hit' })).toBe(hits);

    const alice = { authorization: `Bearer ${await signDevToken({ sub: 'alice', scopes: ['pricing:internal'] })}` };
    const q = '{ products(first: 2) { id costPrice { amount } } }';
    const lookups = await metric('portico_cache_responses_total', {});
    await gql(gw!.graphqlUrl, q, undefined, alice);
    const mine = await gql(gw!.graphqlUrl, q, undefined, alice);
    expect(mine.body.data.products[0].costPrice).not.toBeNull();
    // A signed-in caller never even looks: their answer may hold private or scope-filtered parts.
    expect(await metric('portico_cache_responses_total', {})).toBe(lookups);
    const anonymous = await gql(gw!.graphqlUrl, q);
    expect(anonymous.body.data?.products?.[0]?.costPrice ?? null).toBeNull();
  });
});
