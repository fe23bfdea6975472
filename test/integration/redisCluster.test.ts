/**
 * Portico's shared state on a real three-primary Redis Cluster: `redis-server --cluster-enabled
 * yes` nodes joined with `redis-cli --cluster create`, started on free loopback ports by
 * devkit/redis.ts and killed by pid. Every key Portico writes must land in one slot per command
 * (the GCRA script's one key, APQ, stale MGETs under their hash tag, the policy document, the
 * instance heartbeat); a CROSSSLOT or MOVED error here would be a fallback or a miss in
 * production.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type RunningRedisCluster } from '../../devkit/redis.ts';
import { until } from '../../devkit/wait.ts';
import { createRedisStaleStore } from '../../src/degradation/redisStaleStore.ts';
import { publishPolicies } from '../../src/rateLimit/index.ts';
import { createRedisClient, createRedisKeyValueCache, type RedisClient } from '../../src/redis/index.ts';
import { captureLogs, startFleet, Traffic, type Fleet } from '../helpers/rateLimit.ts';
import { startStack, type Stack } from '../helpers/portico.ts';

const HOUR_MS = 3_600_000;
const policies = { anonymous: { limit: 100, windowMs: HOUR_MS } };

let cluster: RunningRedisCluster;
const admins: Redis[] = [];

async function keysPerNode(pattern: string): Promise<number[]> {
  return Promise.all(admins.map(async (a) => (await a.keys(pattern)).length));
}

beforeAll(async () => {
  cluster = await startRedisCluster();
  for (const n of cluster.nodes) {
    const a = new Redis(n.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    a.on('error', () => undefined); // the last test kills a node under its admin client
    await a.connect();
    admins.push(a);
  }
}, 60_000);

afterAll(async () => {
  for (const a of admins) a.disconnect();
  await cluster?.stop();
});

async function connected(): Promise<RedisClient> {
  const c = createRedisClient({ url: cluster.url, commandTimeoutMs: 500 }, { logger: captureLogs().logger });
  await c.connect();
  return c;
}

describe('Redis Cluster (three primaries)', () => {
  it('limits exactly across three instances, buckets spread over every primary', async () => {
    let fleet: Fleet | undefined;
    try {
      // Start-up count 1: the three must learn "3" from their heartbeats through the Cluster.
      fleet = await startFleet(cluster.url, 3, { policies, commandTimeoutMs: 500, expectedInstances: 1, heartbeatIntervalMs: 100, heartbeatTtlMs: 300 });
      await until('every instance to count three through the Cluster', () => fleet!.instances.every((x) => x.limiter.liveInstances() === 3), 5_000);
      for (let s = 0; s < 12; s++) {
        const traffic = new Traffic(fleet, { key: `ip:203.0.113.${s}`, tier: 'anonymous' });
        await traffic.run(110);
        expect(traffic.errors).toEqual([]);
        expect(traffic.results.filter((r) => r.allowed)).toHaveLength(100);
        expect(traffic.results.every((r) => r.source === 'redis' || r.source === 'hot-key-cache')).toBe(true);
      }
      expect(fleet.instances.reduce((n, x) => n + x.limiter.stats().redisErrors, 0)).toBe(0);
      // 12 buckets by hash tag: with 3 primaries, each very likely owns some (P(miss) < 3 %).
      const perNode = await keysPerNode('portico:rl:{*');
      expect(perNode.reduce((a, b) => a + b, 0)).toBe(12);
      expect(perNode.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    } finally {
      await fleet?.close();
    }
  });

  it('reads the runtime policy document from the Cluster', async () => {
    let fleet: Fleet | undefined;
    const admin = await connected();
    try {
      fleet = await startFleet(cluster.url, 2, { policies, commandTimeoutMs: 500, policyPollIntervalMs: 50 });
      await publishPolicies(admin, { anonymous: { limit: 7, windowMs: HOUR_MS } });
      await until('every instance to apply the published policy', () => fleet!.instances.every((x) => x.limiter.policies().anonymous?.limit === 7));
      const traffic = new Traffic(fleet, { key: 'ip:203.0.113.200', tier: 'anonymous' });
      await traffic.run(20);
      expect(traffic.results.filter((r) => r.allowed)).toHaveLength(7);
    } finally {
      await publishPolicies(admin, {}).catch(() => undefined);
      await fleet?.close();
      admin.disconnect();
    }
  });

  it('shares APQ documents and stale values (several groups in one call) between clients', async () => {
    const a = await connected();
    const b = await connected();
    try {
      const apqA = createRedisKeyValueCache(a, { prefix: 'portico:apq:' });
      const apqB = createRedisKeyValueCache(b, { prefix: 'portico:apq:' });
      for (let i = 0; i < 20; i++) await apqA.set(`hash${i}`, `query ${i}`, { ttl: 60 });
      for (let i = 0; i < 20; i++) expect(await apqB.get(`hash${i}`)).toBe(`query ${i}`);

      const staleA = createRedisStaleStore(a, { ttlMs: 60_000 });
      const staleB = createRedisStaleStore(b, { ttlMs: 60_000 });
      // Keys of several breaker groups in one call: on a Cluster these sit in different slots.
      const entries = Array.from({ length: 30 }, (_, i) => [`group${i % 6}|entity${i}`, `value${i}`] as const);
      await staleA.setMany(entries);
      const values = await staleB.getMany([...entries.map(([k]): string => k), 'group0|missing']);
      expect(values).toEqual([...entries.map(([, v]) => v), undefined]);
      const perNode = await keysPerNode('portico:stale:*');
      expect(perNode.reduce((x, y) => x + y, 0)).toBe(30);
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });

  it('a real Portico pointed at redis+cluster:// limits through Redis', async () => {
    let stack: Stack | undefined;
    try {
      stack = await startStack({ PORTICO_REDIS_URL: cluster.url, PORTICO_RATE_LIMITS: 'anonymous=5/1h', PORTICO_REDIS_COMMAND_TIMEOUT_MS: '500' });
      const limiter = stack.gw.portico.parts.limiter!;
      await until('the limiter to use the Cluster', () => limiter.mode() === 'redis');
      expect(limiter.describe()).toContain('cluster seeded by 127.0.0.1:');
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await stack.gql('{ products(first: 1) { id } }')).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
      expect(limiter.stats().redisErrors).toBe(0);
    } finally {
      await stack?.stop();
    }
  });

  // Last: it leaves the Cluster without one of its primaries.
  it('a primary SIGKILLed (no replica): 0 5xx, the limiter falls back instead of failing requests', async () => {
    let stack: Stack | undefined;
    try {
      stack = await startStack({ PORTICO_REDIS_URL: cluster.url, PORTICO_RATE_LIMITS: 'anonymous=100000/1h', PORTICO_REDIS_COMMAND_TIMEOUT_MS: '200' });
      const limiter = stack.gw.portico.parts.limiter!;
      await until('the limiter to use the Cluster', () => limiter.mode() === 'redis');
      const statuses: number[] = [];
      const send = async () => {
        for (let i = 0; i < 5; i++) statuses.push((await stack!.gql('{ products(first: 1) { id } }')).status);
      };
      // Kill the primary that owns this client's bucket (its slot is fixed by the bucket id).
      await send();
      const owner = (await keysPerNode('portico:rl:{anonymous:*:100000/3600000}')).findIndex((n) => n > 0);
      expect(owner).toBeGreaterThanOrEqual(0);
      await cluster.nodes[owner]!.kill('SIGKILL');
      await until('a fallback on the lost node', () => limiter.stats().fallbackDecisions > 0, { timeoutMs: 15_000, intervalMs: 20, step: send });
      await send();
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect(stack.gw.logs.find((l) => l.event === 'rate_limit_mode' && l.mode === 'local-fallback').length).toBeGreaterThanOrEqual(1);
    } finally {
      await stack?.stop();
    }
  });
});
