import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishPolicies } from '../../src/rateLimit/index.ts';
import { signDevToken, DEV_JWKS_FILE, DEV_ISSUER, DEV_AUDIENCE } from '../../subgraphs-mock/idp.ts';
import { startAllMocks, subgraphUrlOverrides, type RunningMocks } from '../../subgraphs-mock/index.ts';
import { startPortico, type RunningPortico } from '../helpers/portico.ts';
import { startRedis, type RunningRedis } from '../../devkit/redis.ts';
import { until } from '../../devkit/wait.ts';

const TYPENAME = JSON.stringify({ query: '{ __typename }' });
const PAGE = JSON.stringify({ query: '{ products(first: 2) { id price { amount } } }' });

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  await res.arrayBuffer();
  return { status: res.status, headers: res.headers, ms: performance.now() - started };
}

/** `"anonymous";r=12;t=30` → { name, r, t } */
function parseRateLimit(v: string | null) {
  const m = v ? /^"([^"]+)";r=(\d+);t=(\d+)$/.exec(v) : null;
  return m ? { name: m[1]!, r: Number(m[2]), t: Number(m[3]) } : undefined;
}
function parsePolicy(v: string | null) {
  const m = v ? /^"([^"]+)";q=(\d+);w=(\d+)$/.exec(v) : null;
  return m ? { name: m[1]!, q: Number(m[2]), w: Number(m[3]) } : undefined;
}

describe('three instances sharing one Redis', () => {
  let redis: RunningRedis;
  let mocks: RunningMocks;
  let gws: RunningPortico[];
  let admin: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    mocks = await startAllMocks({ ports: { product: 0, pricing: 0, inventory: 0, review: 0 }, faultsFromEnv: false });
    const env = {
      PORTICO_REDIS_URL: redis.url,
      PORTICO_RATE_LIMITS: 'anonymous=100/1h,premium=300/1h',
      PORTICO_SUBGRAPH_URLS: Object.entries(subgraphUrlOverrides(mocks.mocks)).map(([k, v]) => `${k}=${v}`).join(','),
      PORTICO_JWKS_FILE: DEV_JWKS_FILE,
      PORTICO_JWT_ISSUER: DEV_ISSUER,
      PORTICO_JWT_AUDIENCE: DEV_AUDIENCE,
      PORTICO_REDIS_COMMAND_TIMEOUT_MS: '50',
    };
    gws = await Promise.all([startPortico(env), startPortico(env), startPortico(env)]);
    await until('all limiters to use Redis', () => gws.every((g) => g.portico.parts.limiter?.mode() === 'redis'));
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await Promise.all((gws ?? []).map((g) => g.stop()));
    await mocks?.stop();
    await redis?.stop();
  });

  it('1,000 requests spread round-robin admit exactly the limit of 100, not 300', async () => {
    const statuses: number[] = [];
    const remaining: number[] = [];
    for (let batch = 0; batch < 50; batch++) {
      const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => post(gws[(batch * 20 + i) % 3]!.graphqlUrl, TYPENAME)));
      for (const r of rs) {
        statuses.push(r.status);
        const rl = parseRateLimit(r.headers.get('ratelimit'));
        if (r.status === 200 && rl) remaining.push(rl.r);
      }
    }
    const admitted = statuses.filter((s) => s === 200).length;
    expect(admitted).toBeGreaterThanOrEqual(99);
    expect(admitted).toBeLessThanOrEqual(101);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    // Each admitted request saw a distinct remaining count, from 99 down to 0.
    expect(new Set(remaining).size).toBe(remaining.length);
    expect(Math.min(...remaining)).toBe(0);
  });

  it('a 429 carries Retry-After and parseable RateLimit fields, and reaches no subgraph', async () => {
    const before = mocks.mocks.product.stats().requests;
    const r = await post(gws[0]!.graphqlUrl, PAGE);
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(parsePolicy(r.headers.get('ratelimit-policy'))).toEqual({ name: 'anonymous', q: 100, w: 3600 });
    expect(parseRateLimit(r.headers.get('ratelimit'))).toMatchObject({ name: 'anonymous', r: 0 });
    const body = (await (await fetch(gws[1]!.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: PAGE })).json()) as any;
    expect(body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(mocks.mocks.product.stats().requests).toBe(before);
  });

  it('a forged X-Forwarded-For does not change the key', async () => {
    const r = await post(gws[2]!.graphqlUrl, TYPENAME, { 'x-forwarded-for': '203.0.113.9' });
    expect(r.status).toBe(429);
  });

  it('a premium token gets the premium quota, shared across instances', async () => {
    const token = await signDevToken({ sub: 'paula', tier: 'premium' });
    const r = await post(gws[0]!.graphqlUrl, TYPENAME, { authorization: `Bearer ${token}` });
    expect(r.status).toBe(200);
    expect(parsePolicy(r.headers.get('ratelimit-policy'))).toEqual({ name: 'premium', q: 300, w: 3600 });
    const r2 = await post(gws[1]!.graphqlUrl, TYPENAME, { authorization: `Bearer ${token}` });
    expect(parseRateLimit(r2.headers.get('ratelimit'))?.r).toBe(298);
  });

  it('every limiter key in Redis has a TTL', async () => {
    const keys = (await admin.keys('portico:rl:*')).filter((k) => k !== 'portico:rl:policies');
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const k of keys) expect(await admin.pttl(k)).toBeGreaterThan(0);
  });

  it('a limit changed at run time applies on every instance without restart', async () => {
    await publishPolicies(admin, { anonymous: { limit: 5000, windowMs: 3_600_000 } });
    for (const g of gws) {
      await until(`instance ${g.url} to apply the new limit`, async () => parsePolicy((await post(g.graphqlUrl, TYPENAME)).headers.get('ratelimit-policy'))?.q === 5000);
    }
    await admin.del('portico:rl:policies');
  });

  it('Redis killed mid-run: no failed request, none waits on Redis; restarted: shared limiting resumes', async () => {
    await publishPolicies(admin, { anonymous: { limit: 100_000, windowMs: 3_600_000 } });
    for (const g of gws) await until('big limit', async () => parsePolicy((await post(g.graphqlUrl, TYPENAME)).headers.get('ratelimit-policy'))?.q === 100_000);
    admin.disconnect();
    const results: { status: number; ms: number }[] = [];
    let killed = false;
    for (let i = 0; i < 150; i++) {
      if (i === 30) {
        await redis.kill('SIGKILL');
        killed = true;
      }
      results.push(await post(gws[i % 3]!.graphqlUrl, TYPENAME));
    }
    expect(killed).toBe(true);
    expect(results.filter((r) => r.status !== 200), JSON.stringify(results.filter((r) => r.status !== 200).slice(0, 3))).toEqual([]);
    for (const g of gws) expect(g.portico.parts.limiter?.mode()).toBe('local-fallback');
    // No request waited on the dead Redis longer than its command timeout (+ generous slack).
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(50 + 450);
    const fallbackLogs = gws.flatMap((g) => g.logs.find((l) => l.event === 'rate_limit_mode' && l.mode === 'local-fallback'));
    expect(fallbackLogs.length).toBeGreaterThanOrEqual(3);

    await redis.restart();
    await until('limiters to return to Redis', () => gws.every((g) => g.portico.parts.limiter?.mode() === 'redis'), 15_000);
    const after = await post(gws[0]!.graphqlUrl, TYPENAME);
    expect(after.status).toBe(200);
  });

  it('Redis that accepts connections but never answers (SIGSTOP) is handled like a dead one', async () => {
    await redis.kill('SIGSTOP');
    try {
      const results: { status: number; ms: number }[] = [];
      for (let i = 0; i < 60; i++) results.push(await post(gws[i % 3]!.graphqlUrl, TYPENAME));
      expect(results.filter((r) => r.status !== 200)).toEqual([]);
      expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(50 + 450);
      await until('fallback on every instance', () => gws.every((g) => g.portico.parts.limiter?.mode() === 'local-fallback'));
    } finally {
      await redis.kill('SIGCONT');
    }
    await until('limiters to return to Redis', () => gws.every((g) => g.portico.parts.limiter?.mode() === 'redis'), 15_000);
  });
});

describe('embedded default (no Redis)', () => {
  let gw: RunningPortico;
  beforeAll(async () => {
    gw = await startPortico({});
  });
  afterAll(() => gw.stop());

  it('uses the in-memory limiter, says so at start, and limits anonymous clients to 60 per minute', async () => {
    expect(gw.portico.parts.limiter?.mode()).toBe('memory');
    expect(gw.logs.find((l) => /memory/i.test(String(l.msg))).length).toBeGreaterThanOrEqual(1);
    let first429 = 0;
    const began = performance.now();
    for (let i = 1; i <= 70 && !first429; i++) if ((await post(gw.graphqlUrl, TYPENAME)).status === 429) first429 = i;
    // 60 at once, then one more for every second the loop took (60/min refills one per second):
    // on a loaded machine the 61 requests can take longer than a second.
    const refilled = Math.floor((performance.now() - began) / 1_000);
    expect(first429).toBeGreaterThanOrEqual(61);
    expect(first429).toBeLessThanOrEqual(61 + refilled);
  });
});
