import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis/index.ts';
import type { StaleStore } from './staleStore.ts';

/**
 * Stale values shared through Redis, so an instance that never saw a value can still serve it
 * when a subgraph fails. Keys are `portico:stale:{<breaker key>}:<sha1 of the entity>`: the hash
 * tag keeps one field group in one Cluster slot, so MGET works. Every Redis error or timeout is
 * a cache miss (reads) or a skipped write, never an error for the client.
 */
export function createRedisStaleStore(redis: RedisClient, options: { ttlMs: number }): StaleStore {
  const key = (k: string) => {
    const bar = k.indexOf('|');
    const group = bar >= 0 ? k.slice(0, bar) : k;
    return `portico:stale:{${group}}:${createHash('sha1').update(k).digest('hex')}`;
  };
  return {
    kind: 'redis',
    async getMany(keys) {
      if (keys.length === 0 || redis.status !== 'ready') return keys.map(() => undefined);
      try {
        const values = await redis.mget(...keys.map(key));
        return values.map((v) => v ?? undefined);
      } catch {
        return keys.map(() => undefined);
      }
    },
    async setMany(entries) {
      if (entries.length === 0 || redis.status !== 'ready') return;
      const pipeline = redis.pipeline();
      for (const [k, v] of entries) pipeline.set(key(k), v, 'PX', options.ttlMs);
      await pipeline.exec().catch(() => undefined);
    },
  };
}
