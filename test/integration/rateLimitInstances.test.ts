/**
 * The fallback share follows the live instance count (heartbeats in Redis), not the static
 * PORTICO_RATE_LIMIT_INSTANCES: a fleet that scaled 3 → 5 and then lost Redis still admits about
 * one quota in total per client, where the static 1/3 would admit 5/3 of it.
 *
 * Documented bound (docs/operations.md "Redis failover"): with N live instances known to each
 * other, a client gets at most N × max(1, floor(limit / N)) ≤ max(limit, N) per window from the
 * local fallbacks, plus what Redis admitted earlier in the same window: ≤ 2 × limit across the
 * window in which Redis is lost.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../../devkit/redis.ts';
import { until } from '../../devkit/wait.ts';
import { startFleet, Traffic, type Fleet } from '../helpers/rateLimit.ts';

const HOUR_MS = 3_600_000;
const LIMIT = 100;
// One hour: nothing refills while the test runs, so every admission is counted against one quota.
const policies = { anonymous: { limit: LIMIT, windowMs: HOUR_MS } };
// Fast heartbeats keep the test short; the TTL is still three intervals, as in production.
const options = { policies, commandTimeoutMs: 200, expectedInstances: 3, heartbeatIntervalMs: 100, heartbeatTtlMs: 300 };

let server: RunningRedis;
const fleets: Fleet[] = [];

beforeEach(async () => {
  server = await startRedis();
});

afterEach(async () => {
  for (const f of fleets.splice(0)) await f.close();
  await server.stop();
});

function union(...parts: Fleet[]): Fleet {
  const instances = parts.flatMap((f) => f.instances);
  return { instances, allIn: (m) => instances.every((x) => x.limiter.mode() === m), close: async () => {} };
}

describe('live instance count', () => {
  it('3 → 5 instances, then Redis killed: the five fallbacks together admit one quota, not 5/3 of it', async () => {
    const first = await startFleet(server.url, 3, options);
    fleets.push(first);
    await until('three instances to count three', () => first.instances.every((x) => x.limiter.liveInstances() === 3));
    const added = await startFleet(server.url, 2, options);
    fleets.push(added);
    const fleet = union(first, added);
    await until('every instance to count five', () => fleet.instances.every((x) => x.limiter.liveInstances() === 5), 5_000);

    // The client uses part of its quota while limits are shared.
    const traffic = new Traffic(fleet, { key: 'ip:192.0.2.55', tier: 'anonymous' });
    await traffic.run(30);
    const beforeLoss = traffic.results.filter((r) => r.allowed).length;
    expect(beforeLoss).toBe(30);

    await server.kill('SIGKILL');
    const during = await traffic.run(1_000);
    expect(traffic.errors).toEqual([]);
    expect(fleet.allIn('local-fallback')).toBe(true);
    const admitted = during.filter((r) => r.allowed).length;
    // Each instance keeps the count it last saw (5) and admits floor(100 / 5) = 20.
    expect(during.filter((r) => r.source === 'local-fallback').every((r) => r.limit === LIMIT / 5)).toBe(true);
    expect(admitted).toBeLessThanOrEqual(5 * Math.floor(LIMIT / 5));
    expect(admitted).toBeGreaterThanOrEqual(LIMIT - 5);
    // Static PORTICO_RATE_LIMIT_INSTANCES=3 would have admitted 5 × 33 = 165 here.
    expect(admitted).toBeLessThan(5 * Math.floor(LIMIT / 3));
    expect(beforeLoss + admitted).toBeLessThanOrEqual(2 * LIMIT);
    console.log(`[measured] 3→5 then Redis killed: before loss ${beforeLoss}, fallback admitted ${admitted} of limit ${LIMIT} (static 1/3 would allow ${5 * Math.floor(LIMIT / 3)})`);
  });

  it('an instance that leaves (close) or dies (no heartbeat) stops counting', async () => {
    const fleet = await startFleet(server.url, 4, { ...options, expectedInstances: 1 });
    fleets.push(fleet);
    await until('every instance to count four', () => fleet.instances.every((x) => x.limiter.liveInstances() === 4), 5_000);
    // Graceful leave: removed at once.
    await fleet.instances[3]!.limiter.close();
    // A dead one: its client is cut, so its member expires after the TTL.
    fleet.instances[2]!.redis.disconnect();
    await until('the two left to count two', () => fleet.instances.slice(0, 2).every((x) => x.limiter.liveInstances() === 2), 5_000);
  });

  it('Redis restarted blank: no instance counts fewer while the fleet re-announces itself', async () => {
    // Start-up value 1: "3" can only come from heartbeats.
    const fleet = await startFleet(server.url, 3, { ...options, expectedInstances: 1 });
    fleets.push(fleet);
    await until('every instance to count three', () => fleet.instances.every((x) => x.limiter.liveInstances() === 3), 5_000);
    const admin = new Redis(server.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    admin.on('error', () => undefined);
    try {
      await server.restart();
      const restartedAt = performance.now();
      const seen: number[] = [];
      // Sampled every 5 ms until all three are back in the (empty) set and a TTL has passed since.
      let refilledAt: number | undefined;
      await until(
        'the three to re-announce themselves, plus one TTL',
        async () => {
          seen.push(...fleet.instances.map((x) => x.limiter.liveInstances()));
          if (refilledAt === undefined && admin.status !== 'ready') await admin.connect().catch(() => undefined);
          if (refilledAt === undefined && (await admin.zcard('portico:instances').catch(() => 0)) === 3) refilledAt = performance.now();
          return refilledAt !== undefined && performance.now() - refilledAt > options.heartbeatTtlMs;
        },
        { timeoutMs: 10_000, intervalMs: 5 },
      );
      expect(Math.min(...seen), `samples after the restart (${Math.round(performance.now() - restartedAt)} ms)`).toBe(3);
      expect(fleet.instances.map((x) => x.limiter.liveInstances())).toEqual([3, 3, 3]);
    } finally {
      admin.disconnect();
    }
  });
});
