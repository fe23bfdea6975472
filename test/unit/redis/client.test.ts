import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createRedisClient, redisAddress } from '../../../src/redis/index.ts';

const logger = pino({ level: 'silent' });

// lazyConnect: building a client opens no socket, so these run without any Redis.
describe('createRedisClient picks the topology from PORTICO_REDIS_URL', () => {
  it('redis:// is one Redis, as before', () => {
    const c = createRedisClient({ url: 'redis://:secret@127.0.0.1:6390/2' }, { logger });
    expect(c.isCluster).toBe(false);
    expect(c.status).toBe('wait');
    expect(redisAddress(c)).toBe('127.0.0.1:6390');
    c.disconnect();
  });

  it('redis+sentinel:// asks the sentinels for the named primary, with both sets of credentials', () => {
    const c = createRedisClient({ url: 'redis+sentinel://app:pw@127.0.0.1:26390,127.0.0.1:26391/portico/1?sentinelPassword=spw' }, { logger });
    expect(c.isCluster).toBe(false);
    expect('options' in c && c.options).toMatchObject({
      sentinels: [
        { host: '127.0.0.1', port: 26390 },
        { host: '127.0.0.1', port: 26391 },
      ],
      name: 'portico',
      db: 1,
      username: 'app',
      password: 'pw',
      sentinelPassword: 'spw',
      failoverDetector: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
    expect(redisAddress(c)).toBe('primary "portico" via sentinels 127.0.0.1:26390,127.0.0.1:26391');
    expect(redisAddress(c)).not.toContain('pw');
    c.disconnect();
  });

  it('redis+cluster:// is a Cluster of primaries, same no-queue, no-resend policy on every node', () => {
    const c = createRedisClient({ url: 'redis+cluster://:pw@127.0.0.1:7390,127.0.0.1:7391', commandTimeoutMs: 50 }, { logger });
    expect(c.isCluster).toBe(true);
    expect(c.status).toBe('wait');
    expect(redisAddress(c)).toBe('cluster seeded by 127.0.0.1:7390,127.0.0.1:7391');
    expect(c.options).toMatchObject({
      lazyConnect: true,
      enableOfflineQueue: false,
      scaleReads: 'master',
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 0,
      redisOptions: { password: 'pw', maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, commandTimeout: 1_000 },
    });
    c.disconnect();
  });

  it('an invalid URL throws, naming the allowed forms', () => {
    expect(() => createRedisClient({ url: 'redis+cluster://' }, { logger })).toThrow(/no cluster node addresses.*redis\+sentinel:\/\//s);
  });
});
