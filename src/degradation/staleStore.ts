import { LRUCache } from 'lru-cache';

/** Stale values live 5 minutes: long enough to ride out a restart, short enough not to mislead. */
export const DEFAULT_STALE_TTL_MS = 300_000;
/** 50 000 entries (~ 50 MB worst case for 1 KB values) per instance. */
export const DEFAULT_STALE_MAX_ENTRIES = 50_000;

/**
 * Last good values of the field groups configured with `fallback: stale`, keyed by breaker key
 * plus the entity representation (or root variables). Values are JSON text: immutable and
 * cheap to hand to several requests. Implementations: memory (default) and Redis (shared).
 */
export interface StaleStore {
  getMany(keys: readonly string[]): Promise<(string | undefined)[]>;
  setMany(entries: ReadonlyArray<readonly [string, string]>): Promise<void>;
  readonly kind: 'memory' | 'redis';
}

export function createMemoryStaleStore(options: { ttlMs?: number; maxEntries?: number } = {}): StaleStore {
  const cache = new LRUCache<string, string>({
    max: options.maxEntries ?? DEFAULT_STALE_MAX_ENTRIES,
    ttl: options.ttlMs ?? DEFAULT_STALE_TTL_MS,
  });
  return {
    kind: 'memory',
    async getMany(keys) {
      return keys.map((k) => cache.get(k));
    },
    async setMany(entries) {
      for (const [k, v] of entries) cache.set(k, v);
    },
  };
}
