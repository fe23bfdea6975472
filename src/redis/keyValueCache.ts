import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { RedisClient } from './client.ts';

/**
 * Apollo's KeyValueCache over Redis, for automatic persisted queries shared by every instance:
 * a hash registered through one instance resolves on another. Redis trouble is a cache miss
 * (the client re-sends the full query, as the APQ protocol expects) or a skipped write — never
 * an error for the client and never a wait beyond the command timeout.
 */
export function createRedisKeyValueCache(redis: RedisClient, options: { prefix: string }): KeyValueCache<string> {
  const k = (key: string) => `${options.prefix}${key}`;
  return {
    async get(key) {
      if (redis.status !== 'ready') return undefined;
      try {
        return (await redis.get(k(key))) ?? undefined;
      } catch {
        return undefined;
      }
    },
    async set(key: string, value: string, opts?: KeyValueCacheSetOptions) {
      if (redis.status !== 'ready') return;
      try {
        if (opts?.ttl) await redis.set(k(key), value, 'EX', Math.max(1, Math.round(opts.ttl)));
        else await redis.set(k(key), value);
      } catch {
        // A lost registration only costs the client one full query later.
      }
    },
    async delete(key) {
      if (redis.status !== 'ready') return false;
      try {
        return (await redis.del(k(key))) > 0;
      } catch {
        return false;
      }
    },
  };
}
