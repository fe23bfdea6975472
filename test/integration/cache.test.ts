import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startRedis, startRedisCluster, type RunningRedis, type RunningRedisCluster } from '../../devkit/redis.ts';
import { until } from '../../devkit/wait.ts';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_JWKS_FILE, signDevToken } from '../../subgraphs-mock/idp.ts';
import { startAllMocks, subgraphUrlOverrides, type RunningMocks } from '../../subgraphs-mock/index.ts';
import { gql, startPortico, type RunningPortico } from '../helpers/portico.ts';

/**
 * The entity and response cache with real parts: the demo mocks sending their cache hints
 * (stale-while-revalidate, PRIVATE scope, stale-if-error), real redis-server processes, and up
 * to three Portico instances sharing one Redis.
 */

const PAGE = (first: number) => `{ products(first: ${first}) { id name price { amount currency } inventory { inStock quantity } reviews(first: 3) { id rating body } averageRating } }`;
const AUTH_ENV = { PORTICO_JWKS_FILE: DEV_JWKS_FILE, PORTICO_JWT_ISSUER: DEV_ISSUER, PORTICO_JWT_AUDIENCE: DEV_AUDIENCE };
const ADMIN = 'cache-test-admin-token-0123456789';
/**
 * Where a test counts calls across several steps, inventory's 5 s hint could expire between them
 * on a busy machine and its background refresh would be counted: a minute instead.
 */
const STEADY = { PORTICO_CACHE_TTLS: 'inventory=60' };
/**
 * Redis's command deadline in these tests. They count subgraph calls to show that what one
 * instance fetched is a hit on another; on the default 50 ms, a read a busy CI machine delays is,
 * rightly, a miss and a fetch, which would count as a call. The miss path has its own tests:
 * Redis down below, the chaos suite's Redis SIGSTOP.
 */
const SHARED_READ_DEADLINE_MS = '1000';
const bearer = async (sub: string, scopes: string[] = []) => ({ authorization: `Bearer ${await signDevToken({ sub, scopes })}` });

let mocks: RunningMocks | undefined;
let redis: Pick<RunningRedis, 'url' | 'stop'> & Partial<Pick<RunningRedis, 'kill'>> | undefined;
let cluster: RunningRedisCluster | undefined;
const gateways: RunningPortico[] = [];

async function stack(n: number, env: Record<string, string> = {}, withRedis: boolean | 'cluster' = false): Promise<RunningPortico[]> {
  mocks = await startAllMocks({ ports: { product: 0, pricing: 0, inventory: 0, review: 0 }, faultsFromEnv: false, cacheHints: true });
  if (withRedis === 'cluster') redis = cluster = await startRedisCluster();
  else if (withRedis) redis = await startRedis();
  const overrides = Object.entries(subgraphUrlOverrides(mocks.mocks)).map(([k, v]) => `${k}=${v}`).join(',');
  for (let i = 0; i < n; i++) {
    gateways.push(await startPortico({ PORTICO_SUBGRAPH_URLS: overrides, PORTICO_RATE_LIMIT_ENABLED: 'false', ...(redis ? { PORTICO_REDIS_URL: redis.url, PORTICO_REDIS_COMMAND_TIMEOUT_MS: SHARED_READ_DEADLINE_MS } : {}), ...env }));
  }
  if (redis) {
    for (const g of gateways) await until('the cache connected to Redis', async () => (await health(g)).gateway.cache.redis === 'connected', 10_000, 20);
  }
  return gateways;
}

async function health(gw: RunningPortico): Promise<any> {
  return (await fetch(`${gw.opsUrl}/health/subgraphs`)).json();
}

function calls(names: ('product' | 'pricing' | 'inventory' | 'review')[] = ['pricing', 'inventory', 'review']): number {
  return names.reduce((n, name) => n + mocks!.mocks[name].stats().graphqlRequests, 0);
}

async function metric(gw: RunningPortico, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${gw.opsUrl}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) && want.every((w) => line.includes(w))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.stop()));
  await mocks?.stop();
  mocks = undefined;
  await redis?.stop();
  redis = undefined;
  cluster = undefined;
});
afterAll(async () => {
  await redis?.stop();
});

describe('entity cache', () => {
  it('a warm product page makes 0 subgraph calls; a page with 2 new products fetches just those 2, one call per subgraph', async () => {
    const [gw] = await stack(1, STEADY);
    const first = await gql(gw!.graphqlUrl, PAGE(5));
    expect(first.body.errors).toBeUndefined();
    const before = calls(['product', 'pricing', 'inventory', 'review']);
    const warm = await gql(gw!.graphqlUrl, PAGE(5));
    expect(warm.body).toEqual(first.body);
    expect(calls(['product', 'pricing', 'inventory', 'review'])).toBe(before);

    const misses = { pricing: await metric(gw!, 'portico_cache_lookups_total', { subgraph: 'pricing', result: 'miss' }) };
    const perSubgraph = { pricing: calls(['pricing']), inventory: calls(['inventory']), review: calls(['review']) };
    const seven = await gql(gw!.graphqlUrl, PAGE(7));
    expect(seven.body.errors).toBeUndefined();
    expect(seven.body.data.products.slice(0, 5)).toEqual(first.body.data.products);
    expect(seven.body.data.products[6].price).not.toBeNull();
    for (const name of ['pricing', 'inventory', 'review'] as const) expect(calls([name]) - perSubgraph[name], name).toBe(1);
    expect((await metric(gw!, 'portico_cache_lookups_total', { subgraph: 'pricing', result: 'miss' })) - misses.pricing).toBe(2);
    // The response says how long a CDN may keep it: the shortest part (prices and, here,
    // inventory: 60 s; products 1 h, reviews 10 min), less the time they have been held.
    const get = await fetch(`${gw!.graphqlUrl}?query=${encodeURIComponent(PAGE(5))}`, { headers: { 'apollo-require-preflight': 'true' } });
    const maxAge = Number(/^max-age=(\d+), public$/.exec(get.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(30);
    expect(maxAge).toBeLessThanOrEqual(60);
    const status = (await (await fetch(`${gw!.opsUrl}/health/subgraphs`)).json()) as { subgraphs: { name: string; cacheHitRatio: number | null }[] };
    expect(status.subgraphs.find((s) => s.name === 'pricing')!.cacheHitRatio).toBeGreaterThan(0.4);
  });

  it('entries expire with their TTL (PORTICO_CACHE_TTLS override) and are fetched again', async () => {
    const [gw] = await stack(1, { PORTICO_CACHE_TTLS: 'inventory=1', PORTICO_CACHE_SWR_S: '0' });
    await gql(gw!.graphqlUrl, PAGE(3));
    const before = calls(['inventory']);
    await gql(gw!.graphqlUrl, PAGE(3));
    expect(calls(['inventory'])).toBe(before);
    // Time has to pass for a 1 s entry to expire: ask until inventory is called again.
    await until('inventory fetched again after its 1 s TTL', async () => {
      await gql(gw!.graphqlUrl, PAGE(3));
      return calls(['inventory']) > before;
    }, 5_000, 100);
    expect(calls(['pricing'])).toBe(1);
  });

  it('stale-while-revalidate: 3 instances serve an expired entry at once and exactly one refreshes it', async () => {
    const gws = await stack(3, { PORTICO_CACHE_TTLS: 'pricing=2', PORTICO_CACHE_SWR_S: '60' }, true);
    const firstAt = performance.now();
    const first = await gql(gws[0]!.graphqlUrl, PAGE(5));
    expect(first.body.errors).toBeUndefined();
    // The writes to Redis land after the answer: a probe instance asks until they have...
    await until('the entry is in Redis', async () => {
      const before = calls(['pricing']);
      await gql(gws[2]!.graphqlUrl, PAGE(5));
      return calls(['pricing']) === before;
    }, 5_000, 50);
    // ...and an instance that never asked reads the shared copy: no call of its own.
    const shared = calls(['pricing']);
    await gql(gws[1]!.graphqlUrl, PAGE(5));
    expect(calls(['pricing'])).toBe(shared);
    const base = calls(['pricing']);
    // The 2 s max-age must pass (the checks above had it to be done in).
    await new Promise((r) => setTimeout(r, Math.max(0, firstAt + 2_100 - performance.now())));
    mocks!.mocks.pricing.faults.set({ latencyMs: 1_500 });
    const started = performance.now();
    const answers = await Promise.all(gws.flatMap((g) => [gql(g.graphqlUrl, PAGE(5)), gql(g.graphqlUrl, PAGE(5))]));
    const elapsed = performance.now() - started;
    for (const a of answers) expect(a.body.data.products.map((p: any) => p.price)).toEqual(first.body.data.products.map((p: any) => p.price));
    // Served from the expired entry, not after pricing's 1.5 s.
    expect(elapsed).toBeLessThan(1_500);
    await until('one background refresh', () => calls(['pricing']) === base + 1, 5_000, 20);
    mocks!.mocks.pricing.faults.set({ latencyMs: 0 });
    await Promise.all(gws.map((g) => gql(g.graphqlUrl, PAGE(5))));
    expect(calls(['pricing'])).toBe(base + 1);
  });

  it('a PRIVATE field cached for alice is never served to bob or to anonymous callers, concurrent requests too', async () => {
    const [gw] = await stack(1, AUTH_ENV);
    const q = '{ products(first: 3) { id price { amount } costPrice { amount } } }';
    const alice = await bearer('alice', ['pricing:internal']);
    const bob = await bearer('bob', ['pricing:internal']);
    const a1 = await gql(gw!.graphqlUrl, q, undefined, alice);
    expect(a1.body.data.products[0].costPrice).not.toBeNull();
    const warm = calls(['pricing']);
    await gql(gw!.graphqlUrl, q, undefined, alice);
    expect(calls(['pricing'])).toBe(warm); // alice's own entry

    mocks!.mocks.pricing.resetStats();
    const mixed = await Promise.all(Array.from({ length: 12 }, (_, i) => gql(gw!.graphqlUrl, q, undefined, i % 3 === 0 ? alice : i % 3 === 1 ? bob : {})));
    const seen = mocks!.mocks.pricing.stats().recentHeaders.map((h) => h['x-portico-subject'] ?? h['x-user-id'] ?? JSON.stringify(h));
    // Bob's requests reached pricing as bob; alice's were all answered from her entry.
    expect(seen.some((s) => String(s).includes('bob'))).toBe(true);
    expect(seen.some((s) => String(s).includes('alice'))).toBe(false);
    // Anonymous callers never get costPrice at all (filtered before planning), so never alice's.
    mixed.forEach((r, i) => {
      if (i % 3 === 2) expect(r.body.data.products[0].costPrice ?? null).toBeNull();
      else expect(r.body.data.products[0].costPrice).not.toBeNull();
    });
    const get = await fetch(`${gw!.graphqlUrl}?query=${encodeURIComponent(q)}`, { headers: { ...alice, 'apollo-require-preflight': 'true' } });
    expect(get.headers.get('cache-control')).toMatch(/private$/);
  });

  it('stale-if-error: pricing down, its expired entries answer marked stale in extensions.degraded', async () => {
    const [gw] = await stack(1, { PORTICO_CACHE_TTLS: 'pricing=1', PORTICO_CACHE_SWR_S: '0' });
    const first = await gql(gw!.graphqlUrl, PAGE(3));
    await new Promise((r) => setTimeout(r, 1_100)); // past max-age, within stale-if-error
    mocks!.mocks.pricing.faults.set({ mode: "refuse" });
    const down = await gql(gw!.graphqlUrl, PAGE(3));
    expect(down.body.data.products.map((p: any) => p.price)).toEqual(first.body.data.products.map((p: any) => p.price));
    expect(down.body.extensions.degraded[0]).toMatchObject({ service: 'pricing', stale: true });
    const get = await fetch(`${gw!.graphqlUrl}?query=${encodeURIComponent(PAGE(3))}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(get.headers.get('cache-control')).toBe('no-store');
  });

  it('Redis down: L1 only, no errors', async () => {
    const [gw] = await stack(1, STEADY, true);
    await until('warm through Redis', async () => (await gql(gw!.graphqlUrl, PAGE(5))).body.data?.products?.length === 5, 5_000);
    await redis!.kill!('SIGKILL');
    await until('the cache sees Redis gone', async () => (await health(gw!)).gateway.cache.redis === 'unavailable', 5_000, 20);
    const before = calls();
    const answers = await Promise.all(Array.from({ length: 10 }, () => gql(gw!.graphqlUrl, PAGE(5))));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body.errors).toBeUndefined();
    }
    expect(calls()).toBe(before);
    // What L1 does not hold is fetched as if there were no cache: still no error.
    const more = await gql(gw!.graphqlUrl, PAGE(8));
    expect(more.status).toBe(200);
    expect(more.body.errors).toBeUndefined();
    expect(more.body.data.products[7].price).not.toBeNull();
  });

  it('on a Redis Cluster: what one instance fetched is a hit on another (a fetch\'s keys share one slot), and invalidation reaches it', async () => {
    // L1 entries live 1 ms here: every lookup below reads Redis, so the probe proves what Redis
    // holds. (With the usual L1 the probe answered from what it had fetched itself, while a
    // write of the first instance could have failed: under load a Cluster node connection of a
    // just-started instance sometimes reports "Connection is closed" on the first writes.)
    const gws = await stack(3, { ...STEADY, PORTICO_ADMIN_TOKEN: ADMIN, PORTICO_CACHE_L1_TTL_MS: '1' }, 'cluster');
    expect(cluster).toBeDefined();
    const first = await gql(gws[0]!.graphqlUrl, PAGE(5));
    expect(first.body.errors).toBeUndefined();
    // The writes to Redis are not awaited by the answer: a probe instance asks until every
    // entry of the page is in Redis (what it misses, it fetches and writes itself)...
    await until('Redis holds the whole page', async () => {
      const before = calls(['product', 'pricing', 'inventory', 'review']);
      await gql(gws[2]!.graphqlUrl, PAGE(5));
      return calls(['product', 'pricing', 'inventory', 'review']) === before;
    }, 5_000, 50);
    // ...then instance 2, which never asked for this page, is answered from Redis. It first asks
    // for a one-product page touching the same slots, so that its connections to the Cluster's
    // nodes (opened on a node's first command) are up before the page that counts.
    await gql(gws[1]!.graphqlUrl, PAGE(1));
    const before = calls(['product', 'pricing', 'inventory', 'review']);
    const perSubgraph = () => (['product', 'pricing', 'inventory', 'review'] as const).map((name) => `${name} ${calls([name])}`).join(', ');
    const beforeBySubgraph = perSubgraph();
    const other = await gql(gws[1]!.graphqlUrl, PAGE(5));
    expect(other.body).toEqual(first.body);
    // When this fails, say where: which subgraph was called, and whether any instance's Redis
    // reads or writes failed (a write that failed leaves the entry missing for the others).
    const errors = await Promise.all(gws.map((g) => metric(g, 'portico_cache_redis_errors_total', {})));
    const misses = await metric(gws[1]!, 'portico_cache_lookups_total', { result: 'miss' });
    expect(
      calls(['product', 'pricing', 'inventory', 'review']),
      `calls before ${beforeBySubgraph}; after ${perSubgraph()}; Redis errors per instance ${errors.join('/')}; misses on instance 2 ${misses}`,
    ).toBe(before);
    const res = await fetch(`${gws[0]!.opsUrl}/admin/cache/invalidate`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ subgraph: 'pricing' }) });
    expect(await res.json()).toMatchObject({ allInstances: true });
    await until('instance 2 fetches pricing again', async () => {
      const n = calls(['pricing']);
      await gql(gws[1]!.graphqlUrl, PAGE(5));
      return calls(['pricing']) > n;
    }, 5_000, 50);
  });

  it('invalidation by type + key reaches every instance', async () => {
    const gws = await stack(3, { ...AUTH_ENV, PORTICO_ADMIN_TOKEN: ADMIN }, true);
    const q = '{ product(id: "1") { id reviews(first: 50) { id body } } }';
    for (const g of gws) await gql(g.graphqlUrl, q);
    const writer = await bearer('writer', ['review:write']);
    const added = await gql(gws[0]!.graphqlUrl, 'mutation { addReview(productId: "1", rating: 5, body: "cached?") { id } }', undefined, writer);
    expect(added.body.errors).toBeUndefined();
    // Still the cached list everywhere: reviews are kept 10 minutes.
    for (const g of gws) expect(JSON.stringify((await gql(g.graphqlUrl, q)).body)).not.toContain('cached?');
    const res = await fetch(`${gws[1]!.opsUrl}/admin/cache/invalidate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ type: 'Product', key: { id: '1' } }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ allInstances: true });
    for (const [i, g] of gws.entries()) {
      await until(`instance ${i + 1} shows the new review`, async () => JSON.stringify((await gql(g.graphqlUrl, q)).body).includes('cached?'), 5_000, 50);
    }
  });
});
