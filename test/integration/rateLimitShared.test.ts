/**
 * Three gateway instances (three ioredis clients, three limiters) sharing one real redis-server.
 * The command timeout is raised to 500 ms here: these tests are about exactness, and a scheduling
 * hiccup on a busy CI box must not send an instance to its fallback. failures.test.ts covers the
 * 50 ms default and what happens when Redis really misbehaves.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publishPolicies, RATE_LIMIT_POLICIES_KEY } from '../../src/rateLimit/index.ts';
import { startRedis, type RunningRedis } from '../../devkit/redis.ts';
import { until as waitFor } from '../../devkit/wait.ts';
import { commandCalls, scriptCalls, startFleet, Traffic, type Fleet } from '../helpers/rateLimit.ts';

const HOUR_MS = 3_600_000;
// A one-hour window: one unit refills every 36 s, so nothing refills while a test runs.
const policies = { anonymous: { limit: 100, windowMs: HOUR_MS } };

let server: RunningRedis;
let admin: Redis;
let fleet: Fleet | undefined;

beforeEach(async () => {
  server = await startRedis();
  admin = new Redis(server.url, { lazyConnect: true });
  await admin.connect();
});

afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
  admin.disconnect();
  await server.stop();
});

describe('limits shared through Redis', () => {
  it('1,000 round-robin checks from three instances admit exactly 100, remaining counting down', async () => {
    fleet = await startFleet(server.url, 3, { policies, commandTimeoutMs: 500 });
    const traffic = new Traffic(fleet, { key: 'ip:198.51.100.1', tier: 'anonymous' });
    await traffic.run(1_000);

    expect(traffic.errors).toEqual([]);
    const admitted = traffic.results.filter((r) => r.allowed);
    expect(admitted).toHaveLength(100);
    // Admissions are the first 100 checks, whichever instance made them, and remaining falls
    // by exactly one each time: the instances see one bucket, not three.
    expect(traffic.results.slice(0, 100).every((r) => r.allowed)).toBe(true);
    expect(admitted.map((r) => r.remaining)).toEqual(Array.from({ length: 100 }, (_, i) => 99 - i));
    const rejected = traffic.results.slice(100);
    expect(rejected.every((r) => !r.allowed && r.remaining === 0 && r.retryAfterMs > 0 && r.rejection === 'quota')).toBe(true);
    expect(traffic.results.every((r) => r.source === 'redis' || r.source === 'hot-key-cache')).toBe(true);
  });

  it('concurrent checks (50 in flight across three instances) still admit exactly the limit', async () => {
    fleet = await startFleet(server.url, 3, { policies, commandTimeoutMs: 500, hotKeyMaxBlockMs: 0 });
    const subject = { key: 'ip:198.51.100.2', tier: 'anonymous' };
    const instances = fleet.instances;
    let issued = 0;
    let admitted = 0;
    const worker = async (w: number): Promise<void> => {
      while (issued < 1_000) {
        issued++;
        if ((await instances[w % 3]!.limiter.check(subject)).allowed) admitted++;
      }
    };
    await Promise.all(Array.from({ length: 50 }, (_, w) => worker(w)));
    expect(admitted).toBe(100);
    expect(instances.reduce((n, x) => n + x.limiter.stats().redisErrors, 0)).toBe(0);
  });

  it('charges costs atomically: cost 7 against 100 admits 14 requests', async () => {
    fleet = await startFleet(server.url, 3, { policies, commandTimeoutMs: 500 });
    const traffic = new Traffic(fleet, { key: 'sub:costly', tier: 'anonymous' });
    await traffic.run(60, 7);
    const admitted = traffic.results.filter((r) => r.allowed);
    expect(admitted).toHaveLength(14);
    expect(admitted.at(-1)?.remaining).toBe(2);
    // Cheaper requests still fit in what is left, even right after a rejection.
    expect((await fleet.instances[0]!.limiter.check({ key: 'sub:costly', tier: 'anonymous' }, 2)).allowed).toBe(true);
  });

  it('every bucket key is namespaced, hash-tagged and expires when its bucket is full again', async () => {
    fleet = await startFleet(server.url, 3, { commandTimeoutMs: 500 });
    const subjects = [
      { key: 'ip:203.0.113.1', tier: 'anonymous' },
      { key: 'sub:alice', tier: 'free' },
      { key: 'sub:bob', tier: 'premium' },
      { key: 'sub:carol', tier: 'no-such-tier' },
    ];
    for (const s of subjects) await new Traffic(fleet, s).run(30);
    await publishPolicies(admin, { anonymous: { limit: 5, windowMs: 60_000 } });

    const keys = (await admin.keys('portico:rl:*')).sort();
    const buckets = keys.filter((k) => k !== RATE_LIMIT_POLICIES_KEY);
    expect(buckets).toEqual([
      'portico:rl:{anonymous:ip:203.0.113.1:60/60000}',
      'portico:rl:{free:sub:alice:500/86400000}',
      'portico:rl:{free:sub:carol:500/86400000}',
      'portico:rl:{premium:sub:bob:10000/86400000}',
    ]);
    for (const key of buckets) {
      const ttl = await admin.pttl(key);
      expect(ttl, key).toBeGreaterThan(0);
    }
    // Anonymous: 30 of 60 per minute used → full again in 30 s. Free: 30 of 500 per day → 30 × 172.8 s.
    expect(await admin.pttl('portico:rl:{anonymous:ip:203.0.113.1:60/60000}')).toBeLessThanOrEqual(30_000);
    expect(await admin.pttl('portico:rl:{free:sub:alice:500/86400000}')).toBeGreaterThan(30 * 172_800 - 60_000);
    expect(await admin.pttl('portico:rl:{free:sub:alice:500/86400000}')).toBeLessThanOrEqual(30 * 172_800);
    // The policy document is configuration, deliberately without a TTL.
    expect(await admin.pttl(RATE_LIMIT_POLICIES_KEY)).toBe(-1);
  });

  it('a policy published in Redis reaches all three instances without restart; bad documents are ignored and logged', async () => {
    fleet = await startFleet(server.url, 3, { policies, commandTimeoutMs: 500, policyPollIntervalMs: 100 });
    const instances = fleet.instances;

    await publishPolicies(admin, { anonymous: { limit: 5, windowMs: HOUR_MS } });
    await waitFor('every instance to apply the published policy', () =>
      instances.every((x) => x.limiter.policies().anonymous?.limit === 5),
    );
    const traffic = new Traffic(fleet, { key: 'ip:198.51.100.3', tier: 'anonymous' });
    await traffic.run(30);
    expect(traffic.results.filter((r) => r.allowed)).toHaveLength(5);
    for (const x of instances) expect(x.logs.find({ event: 'rate_limit_policies', source: 'redis' })).toHaveLength(1);

    await admin.set(RATE_LIMIT_POLICIES_KEY, '{"tiers":{"anonymous":{"limit":-3}}}');
    await waitFor('every instance to log the rejected document', () =>
      instances.every((x) => x.logs.find({ event: 'rate_limit_policies_rejected' }).length === 1),
    );
    expect(instances.every((x) => x.limiter.policies().anonymous?.limit === 5)).toBe(true);

    await admin.del(RATE_LIMIT_POLICIES_KEY);
    await waitFor('every instance to return to its configured policy', () =>
      instances.every((x) => x.limiter.policies().anonymous?.limit === 100),
    );
    // The bad document stayed in Redis for several polls but was logged once per instance.
    expect(instances.every((x) => x.logs.find({ event: 'rate_limit_policies_rejected' }).length === 1)).toBe(true);
  });

  it('an event-loop stall past the command timeout does not push a healthy Redis into fallback', async () => {
    // Default 50 ms timeout. The EVALSHA is on the wire before the stall (the script was loaded on
    // connect, so it is one round trip); Redis answers at once, but the reply is only read after
    // the stall, when the timeout has long expired.
    fleet = await startFleet(server.url, 1, { policies });
    const limiter = fleet.instances[0]!.limiter;
    const pending = limiter.check({ key: 'ip:198.51.100.77', tier: 'anonymous' });
    const stallUntil = performance.now() + 300;
    while (performance.now() < stallUntil) {
      // Busy: simulates a CPU-heavy query plan or a long GC pause on this instance.
    }
    expect(await pending).toMatchObject({ allowed: true, source: 'redis', remaining: 99 });
    expect(limiter.mode()).toBe('redis');
    expect(limiter.stats().redisErrors).toBe(0);
  });

  it('the script is loaded on connect (first check is one EVALSHA); after SCRIPT FLUSH, NOSCRIPT → EVAL still answers', async () => {
    fleet = await startFleet(server.url, 1, { policies, commandTimeoutMs: 500 });
    const limiter = fleet.instances[0]!.limiter;
    const subject = { key: 'ip:198.51.100.78', tier: 'anonymous' };
    expect(await limiter.check(subject)).toMatchObject({ source: 'redis', remaining: 99 });
    expect(await commandCalls(admin)).toMatchObject({ evalsha: { calls: 1, failed: 0 }, eval: { calls: 0 } });

    await admin.script('FLUSH');
    expect(await limiter.check(subject)).toMatchObject({ source: 'redis', remaining: 98 });
    expect(await commandCalls(admin)).toMatchObject({ evalsha: { calls: 2, failed: 1 }, eval: { calls: 1, failed: 0 } });
    expect(limiter.stats().redisErrors).toBe(0);
  });

  it('an abusive client is answered from the hot-key cache: far fewer Redis calls than requests', async () => {
    fleet = await startFleet(server.url, 3, { policies: { anonymous: { limit: 10, windowMs: HOUR_MS } }, commandTimeoutMs: 500 });
    await admin.config('RESETSTAT');
    const traffic = new Traffic(fleet, { key: 'ip:198.51.100.66', tier: 'anonymous' });
    await traffic.run(3_000);

    expect(traffic.results.filter((r) => r.allowed)).toHaveLength(10);
    const calls = await scriptCalls(admin);
    const stats = fleet.instances.map((x) => x.limiter.stats());
    const sent = stats.reduce((n, s) => n + s.redisCalls, 0);
    const avoided = stats.reduce((n, s) => n + s.avoidedRedisCalls, 0);
    expect(sent + avoided).toBe(3_000);
    // 10 admissions + one rejection per instance per second at most (+1 EVAL per empty script cache).
    expect(calls).toBeGreaterThanOrEqual(sent);
    expect(calls).toBeLessThanOrEqual(sent + 3);
    expect(calls).toBeLessThan(100);
    expect(avoided).toBeGreaterThan(2_900);
    expect(traffic.results.filter((r) => r.source === 'hot-key-cache').every((r) => !r.allowed && r.retryAfterMs > 0)).toBe(true);
  });
});
