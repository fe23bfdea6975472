/**
 * Failover without loss, with real processes: a primary, its replica and three
 * `redis-server --sentinel` processes (`sentinel monitor portico 127.0.0.1 <port> 2`, down after
 * 1 s), started on free loopback ports by devkit/redis.ts and killed by pid; three real Portico
 * instances on `redis+sentinel://…/portico`. The primary is SIGKILLed mid-traffic: requests keep
 * flowing with no 5xx, every limiter falls back to its local share and returns to `redis` on its
 * own once the sentinels have promoted the replica.
 *
 * Documented bound (docs/runbook.md "Redis failover"): across a failover a client gets at most
 * its quota through Redis (the promoted replica still holds the buckets) plus, from the local
 * fallbacks, N × floor(limit / N) ≤ limit: ≤ 2 × limit in the window of the failover.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSentinelGroup, type RunningSentinelGroup } from '../../devkit/redis.ts';
import { until } from '../../devkit/wait.ts';
import { createRedisClient } from '../../src/redis/index.ts';
import { startAllMocks, subgraphUrlOverrides, type RunningMocks } from '../../subgraphs-mock/index.ts';
import { captureLogs, startFleet, Traffic, type Fleet } from '../helpers/rateLimit.ts';
import { startPortico, type RunningPortico } from '../helpers/portico.ts';

const LIMIT = 60;
const TYPENAME = JSON.stringify({ query: '{ __typename }' });

let group: RunningSentinelGroup;
let mocks: RunningMocks;
let gws: RunningPortico[] = [];

beforeAll(async () => {
  group = await startSentinelGroup();
  mocks = await startAllMocks({ ports: { product: 0, pricing: 0, inventory: 0, review: 0 }, faultsFromEnv: false });
  const env = {
    PORTICO_REDIS_URL: group.url,
    // One hour: nothing refills during the test, so admissions add up against one quota.
    PORTICO_RATE_LIMITS: `anonymous=${LIMIT}/1h`,
    PORTICO_SUBGRAPH_URLS: Object.entries(subgraphUrlOverrides(mocks.mocks)).map(([k, v]) => `${k}=${v}`).join(','),
    // Generous: a dead primary fails commands at once (closed socket, no offline queue), so this
    // only keeps a busy CI box from sending a healthy Redis into fallback.
    PORTICO_REDIS_COMMAND_TIMEOUT_MS: '250',
  };
  gws = await Promise.all([startPortico(env), startPortico(env), startPortico(env)]);
  await until('all limiters to use the Sentinel primary', () => gws.every((g) => g.portico.parts.limiter?.mode() === 'redis'), 15_000);
  await until('all three to count three instances', () => gws.every((g) => g.portico.parts.limiter?.liveInstances() === 3), 10_000);
}, 90_000);

afterAll(async () => {
  await Promise.all(gws.map((g) => g.stop()));
  await mocks?.stop();
  await group?.stop();
});

describe('Redis Sentinel failover', () => {
  it('primary SIGKILLed: 0 5xx, local fallback, back on the promoted replica on its own, quota within 2 × limit', async () => {
    const statuses: number[] = [];
    let next = 0;
    const send = async (n: number) => {
      const batch = Array.from({ length: n }, () => {
        const g = gws[next++ % gws.length]!;
        return fetch(g.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: TYPENAME }).then(
          async (r) => {
            await r.arrayBuffer();
            return r.status;
          },
          () => 0, // a refused connection would count as a failure too
        );
      });
      statuses.push(...(await Promise.all(batch)));
    };

    // Before: the client exhausts its quota through Redis (the replica receives every bucket write).
    // Three at a time (one per instance): a busy box must not push a healthy Redis past its budget.
    for (let i = 0; i < (LIMIT + 30) / 3; i++) await send(3);
    const admittedBefore = statuses.filter((s) => s === 200).length;
    expect(admittedBefore).toBe(LIMIT);
    const oldPrimary = group.primary.port;

    const killedAt = performance.now();
    await group.primary.kill('SIGKILL');
    await until('every limiter to fall back', () => gws.every((g) => g.portico.parts.limiter?.mode() === 'local-fallback'), { timeoutMs: 10_000, step: () => send(3) });
    await until('the sentinels to promote the replica', async () => (await group.currentPrimaryPort()) === group.replica.port, { timeoutMs: 30_000, intervalMs: 50, step: () => send(3) });
    await until('every limiter back on Redis', () => gws.every((g) => g.portico.parts.limiter?.mode() === 'redis'), { timeoutMs: 30_000, intervalMs: 20, step: () => send(3) });
    const recoveredMs = performance.now() - killedAt;
    for (let i = 0; i < 10; i++) await send(3);

    expect(await group.currentPrimaryPort()).not.toBe(oldPrimary);
    expect(statuses.filter((s) => s >= 500 || s === 0)).toEqual([]);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    const admittedAfter = statuses.filter((s) => s === 200).length - admittedBefore;
    // Local fallback: each of 3 instances admits floor(60 / 3) = 20; Redis (the promoted replica)
    // remembers the exhausted bucket, so nothing more after the return.
    expect(admittedAfter).toBeLessThanOrEqual(3 * Math.floor(LIMIT / 3));
    expect(admittedBefore + admittedAfter).toBeLessThanOrEqual(2 * LIMIT);
    for (const g of gws) {
      const modes = g.logs.find((l) => l.event === 'rate_limit_mode').map((l) => l.mode);
      expect(modes.slice(-2)).toEqual(['local-fallback', 'redis']);
    }
    console.log(
      `[measured] Sentinel failover: back on Redis after ${Math.round(recoveredMs)} ms; ${statuses.length} requests, 0 5xx; ` +
        `admitted ${admittedBefore} before + ${admittedAfter} across the failover, limit ${LIMIT} (bound ${2 * LIMIT})`,
    );
  }, 90_000);
});

describe('Redis Sentinel with passwords (primary and sentinels)', () => {
  // '/' and '@' must survive the URL: devkit percent-encodes them, the parser decodes them.
  const password = 'pr1mary/p@ss';
  const sentinelPassword = 's3ntinel@pass';
  let secured: RunningSentinelGroup;
  let fleet: Fleet | undefined;

  beforeAll(async () => {
    secured = await startSentinelGroup({ password, sentinelPassword });
  }, 60_000);

  afterAll(async () => {
    await fleet?.close();
    await secured?.stop();
  });

  it('connects with user:password@ and ?sentinelPassword=, and limits through the primary', async () => {
    expect(secured.url).toContain('?sentinelPassword=');
    fleet = await startFleet(secured.url, 2, { policies: { anonymous: { limit: 10, windowMs: 3_600_000 } }, commandTimeoutMs: 500 });
    const traffic = new Traffic(fleet, { key: 'ip:198.51.100.9', tier: 'anonymous' });
    await traffic.run(20);
    expect(traffic.results.filter((r) => r.allowed)).toHaveLength(10);
    expect(traffic.results.every((r) => r.source === 'redis' || r.source === 'hot-key-cache')).toBe(true);
  });

  it('without the sentinels\' password it never reaches the primary, and says why', async () => {
    const logs = captureLogs();
    const client = createRedisClient({ url: secured.url.replace(/\?.*$/, '') }, { logger: logs.logger });
    const errors: string[] = [];
    client.on('error', (e: Error) => errors.push(e.message));
    try {
      client.connect().catch(() => undefined);
      await until('an authentication error from the sentinels', () => errors.some((m) => /NOAUTH|WRONGPASS|auth/i.test(m)), 10_000);
      expect(client.status).not.toBe('ready');
      expect(errors.join('\n')).not.toContain(password);
    } finally {
      client.disconnect();
    }
  });
});

