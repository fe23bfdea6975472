import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis/index.ts';
import type { StaleStore } from './staleStore.ts';

/**
 * Stale values shared through Redis, so an instance that never saw a value can still serve it
 * when a subgraph fails. Keys are `portico:stale:{<breaker key>}:<sha1 of the entity>`: the hash
 * tag keeps one field group in one Cluster slot, so MGET works. Every Redis error or timeout is
 * a cache miss (reads) or a skipped write, never an error for the client.
 *
 * Every call from the data source concerns one fetch, so one group and one slot. On a Cluster the
 * store still splits a call by group (one MGET / one pipeline each), so a caller mixing groups gets
 * values instead of CROSSSLOT errors; on a single Redis it stays one round trip as before.
 */
export function createRedisStaleStore(redis: RedisClient, options: { ttlMs: number }): StaleStore {
  const groupOf = (k: string) => {
    const bar = k.indexOf('|');
    return bar >= 0 ? k.slice(0, bar) : k;
  };
  const key = (k: string) => `portico:stale:{${groupOf(k)}}:${createHash('sha1').update(k).digest('hex')}`;
  /** Positions of `keys` by slot group: all in one on a single Redis. */
  const bySlot = (keys: readonly string[]): number[][] => {
    if (!redis.isCluster) return [keys.map((_, i) => i)];
    const groups = new Map<string, number[]>();
    keys.forEach((k, i) => {
      const g = groupOf(k);
      groups.set(g, [...(groups.get(g) ?? []), i]);
    });
    return [...groups.values()];
  };
  return {
    kind: 'redis',
    async getMany(keys) {
      if (keys.length === 0 || redis.status !== 'ready') return keys.map(() => undefined);
      const out: (string | undefined)[] = keys.map(() => undefined);
      await Promise.all(
        bySlot(keys).map(async (positions) => {
          try {
            const values = await redis.mget(...positions.map((i) => key(keys[i]!)));
            values.forEach((v, j) => (out[positions[j]!] = v ?? undefined));
          } catch {
            // A miss for this group only.
          }
        }),
      );
      return out;
    },
    async setMany(entries) {
      if (entries.length === 0 || redis.status !== 'ready') return;
      const ks = entries.map(([k]) => k);
      await Promise.all(
        bySlot(ks).map(async (positions) => {
          const pipeline = redis.pipeline();
          for (const i of positions) pipeline.set(key(entries[i]![0]), entries[i]![1], 'PX', options.ttlMs);
          await pipeline.exec().catch(() => undefined);
        }),
      );
    },
  };
}
