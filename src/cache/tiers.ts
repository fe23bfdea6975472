import { LRUCache } from 'lru-cache';
import { withDeadline, type RedisClient } from '../redis/index.ts';
import { decodeEntry, encodeEntry, type CacheEntry } from './entry.ts';

/**
 * The two levels of the cache. L1: a small LRU in this process. L2: Redis, shared by every
 * instance. Every Redis error or timeout is a miss (reads) or a skipped write, never the
 * client's failure; the caller counts them.
 */

/** 10 000 entries (~10 MB for 1 KB values) per instance: the hot part of a catalogue. */
export const DEFAULT_CACHE_L1_MAX_ENTRIES = 10_000;
/**
 * With Redis, an instance keeps its own copy at most 5 s: Redis holds the shared one, and an
 * invalidation that missed this instance's subscription is bounded by it.
 */
export const DEFAULT_CACHE_L1_TTL_MS = 5_000;

export interface MemoryTier {
  get(key: string): CacheEntry | undefined;
  set(key: string, entry: CacheEntry, now: number): void;
  clear(): void;
  readonly size: number;
}

/** `ttlCapMs`: longest an entry stays (undefined: its whole life, when there is no L2). */
export function createMemoryTier(options: { maxEntries: number; ttlCapMs: number | undefined }): MemoryTier {
  const lru = new LRUCache<string, CacheEntry>({ max: options.maxEntries, ttlAutopurge: false });
  return {
    get: (key) => lru.get(key),
    set(key, entry, now) {
      const life = entry.staleUntil - now;
      if (life <= 0) return;
      lru.set(key, entry, { ttl: options.ttlCapMs === undefined ? life : Math.min(life, options.ttlCapMs) });
    },
    clear: () => lru.clear(),
    get size() {
      return lru.size;
    },
  };
}

export interface SharedTier {
  /** Entries in order; undefined for misses, and for all of them when Redis fails. `failed` says which. */
  getMany(keys: readonly string[]): Promise<{ entries: (CacheEntry | undefined)[]; failed: boolean }>;
  /** Fire and forget; resolves false when Redis failed the write (not when it is away: the status says that). */
  setMany(items: ReadonlyArray<readonly [string, CacheEntry]>, now: number): Promise<boolean>;
  /** Takes a short lock for each key (SET NX PX); true where this caller won it. All false on a Redis error. */
  lockMany(keys: readonly string[], ttlMs: number): Promise<boolean[]>;
}

/**
 * Redis level. Callers pass keys of one fetch, which share a hash tag and so one Cluster slot:
 * one MGET, one pipeline.
 */
export function createRedisTier(redis: RedisClient, options: { commandTimeoutMs: number }): SharedTier {
  const ready = () => redis.status === 'ready';
  return {
    async getMany(keys) {
      if (keys.length === 0) return { entries: [], failed: false };
      // Not connected (down, or still connecting): a miss, not an error; the limiter and logs say Redis is away.
      if (!ready()) return { entries: keys.map(() => undefined), failed: false };
      try {
        const values = await withDeadline(redis.mget(...keys), options.commandTimeoutMs);
        return { entries: values.map((v) => decodeEntry(v)), failed: false };
      } catch {
        return { entries: keys.map(() => undefined), failed: true };
      }
    },
    async setMany(items, now) {
      if (items.length === 0 || !ready()) return true;
      const pipeline = redis.pipeline();
      for (const [key, entry] of items) {
        const ttl = entry.staleUntil - now;
        if (ttl > 0) pipeline.set(key, encodeEntry(entry), 'PX', ttl);
      }
      try {
        await withDeadline(pipeline.exec(), options.commandTimeoutMs * 4);
        return true;
      } catch {
        return false;
      }
    },
    async lockMany(keys, ttlMs) {
      if (keys.length === 0) return [];
      if (!ready()) return keys.map(() => false);
      const pipeline = redis.pipeline();
      for (const key of keys) pipeline.set(`${key}:lock`, '1', 'PX', ttlMs, 'NX');
      try {
        const results = await withDeadline(pipeline.exec(), options.commandTimeoutMs * 4);
        return (results ?? []).map(([err, value]) => !err && value === 'OK');
      } catch {
        return keys.map(() => false);
      }
    },
  };
}
