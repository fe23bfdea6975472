import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { describeRedisTarget, parseRedisUrl, RedisUrlError } from '../../../src/redis/url.ts';

describe('parseRedisUrl', () => {
  it('keeps redis:// and rediss:// URLs as one Redis, normalised as before', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380')).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6380' });
    expect(parseRedisUrl(' rediss://u:p@cache.internal:6380/2 ')).toEqual({ kind: 'single', url: 'rediss://u:p@cache.internal:6380/2' });
  });

  it('reads sentinels, master name, db and both sets of credentials', () => {
    expect(parseRedisUrl('redis+sentinel://app:s%40cret@s1:26380,s2,[::1]:26381/mymaster/3?sentinelPassword=sp&sentinelUsername=su')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
        { host: '::1', port: 26381 },
      ],
      masterName: 'mymaster',
      username: 'app',
      password: 's@cret',
      sentinelUsername: 'su',
      sentinelPassword: 'sp',
      db: 3,
      tls: false,
    });
    const plain = parseRedisUrl('rediss+sentinel://:pw@10.0.0.1:26379/primary');
    expect(plain).toMatchObject({ kind: 'sentinel', masterName: 'primary', password: 'pw', db: 0, tls: true });
    expect(plain).not.toHaveProperty('username', expect.anything());
  });

  it('reads cluster seed nodes with default port 6379', () => {
    expect(parseRedisUrl('redis+cluster://:pw@n1:7000,n2:7001,n3')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
        { host: 'n3', port: 6379 },
      ],
      username: undefined,
      password: 'pw',
      tls: false,
    });
    expect(parseRedisUrl('rediss+cluster://n1:7000')).toMatchObject({ kind: 'cluster', tls: true });
  });

  it.each([
    ['http://x:1', /unsupported scheme "http:\/\/"/],
    ['localhost:6379', /unsupported scheme \(none\)/],
    ['redis+sentinel://s1:26379', /master name/],
    ['redis+sentinel://s1:26379/m/x', /database number/],
    ['redis+sentinel://s1:26379/m?password=x', /unknown query parameter\(s\) password/],
    ['redis+sentinel:///m', /no sentinel addresses/],
    ['redis+cluster://n1:70000', /cluster node address "n1:70000"/],
    ['redis+cluster://n1:7000/0', /no path/],
    ['redis+cluster://n1 n2', /is not host\[:port\]/],
  ])('rejects %s, naming every allowed form', (raw, problem) => {
    expect(() => parseRedisUrl(raw)).toThrow(RedisUrlError);
    expect(() => parseRedisUrl(raw)).toThrow(problem);
    expect(() => parseRedisUrl(raw)).toThrow(/redis\+sentinel:\/\/.*redis\+cluster:\/\//);
  });

  it('never puts a password in an error or a description', () => {
    const bad = 'redis+sentinel://u:hunter2@s1:26379/m/x';
    expect(() => parseRedisUrl(bad)).toThrow(expect.objectContaining({ message: expect.not.stringContaining('hunter2') }));
    expect(describeRedisTarget(parseRedisUrl('redis+sentinel://u:hunter2@s1:26379,s2:26380/m'))).toBe('primary "m" via sentinels s1:26379,s2:26380');
    expect(describeRedisTarget(parseRedisUrl('redis+cluster://:hunter2@n1:7000'))).toBe('cluster seeded by n1:7000');
    expect(describeRedisTarget(parseRedisUrl('redis://:hunter2@h:6380'))).toBe('h:6380');
  });
});

describe('PORTICO_REDIS_URL in config', () => {
  it('accepts every form and keeps Sentinel / Cluster URLs as given', () => {
    expect(loadConfig({ PORTICO_REDIS_URL: 'redis://127.0.0.1:6380' }).redis.url).toBe('redis://127.0.0.1:6380');
    const sentinel = 'redis+sentinel://s1:26379,s2:26380/mymaster?sentinelPassword=x';
    expect(loadConfig({ PORTICO_REDIS_URL: sentinel }).redis.url).toBe(sentinel);
    expect(loadConfig({ PORTICO_REDIS_URL: 'redis+cluster://n1:7000,n2:7001' }).redis.url).toBe('redis+cluster://n1:7000,n2:7001');
  });

  it('fails at start naming the variable and what is allowed', () => {
    expect(() => loadConfig({ PORTICO_REDIS_URL: 'redis+sentinel://s1:26379' })).toThrow(/PORTICO_REDIS_URL.*master name.*expected redis:\/\//s);
    expect(() => loadConfig({ PORTICO_REDIS_URL: 'memcached://x' })).toThrow(/PORTICO_REDIS_URL.*unsupported scheme/s);
  });
});
