import { LRUCache } from 'lru-cache';

/**
 * Longest a rejection is answered locally, ms. Bounds how stale a local "no" can be (a policy
 * raised in Redis, or another instance's view) while capping an abusive client at about one
 * Redis call per second per instance.
 */
export const DEFAULT_HOT_KEY_MAX_BLOCK_MS = 1_000;
/** Most rejected buckets remembered; an attack from more keys than this only costs Redis calls. */
export const DEFAULT_HOT_KEY_MAX_ENTRIES = 10_000;

interface Block {
  /** Local monotonic time until which this cache answers for the bucket, ms (capped). */
  readonly untilMs: number;
  /** Local monotonic time at which Redis said the cost would fit again, ms (uncapped). */
  readonly retryAtMs: number;
  /** Cost that was rejected: a cheaper request may fit and must still ask Redis. */
  readonly cost: number;
  readonly limit: number;
}

export interface HotKeyCacheOptions {
  /** Cap on a local block, ms. Default `DEFAULT_HOT_KEY_MAX_BLOCK_MS` (1,000); 0 disables. */
  readonly maxBlockMs?: number;
  /** Most buckets remembered. Default `DEFAULT_HOT_KEY_MAX_ENTRIES` (10,000). */
  readonly maxEntries?: number;
}

/**
 * "Blocked until" memory for buckets Redis just rejected. GCRA admits nothing before the
 * `retryAfter` it returned, so answering from here until then (capped) gives the same answer
 * Redis would, without the round trip.
 */
export class HotKeyCache {
  readonly #blocks: LRUCache<string, Block>;
  readonly #maxBlockMs: number;
  readonly #now: () => number;

  constructor(options: HotKeyCacheOptions = {}, deps: { now?: () => number } = {}) {
    this.#maxBlockMs = options.maxBlockMs ?? DEFAULT_HOT_KEY_MAX_BLOCK_MS;
    this.#now = deps.now ?? (() => performance.now());
    this.#blocks = new LRUCache({ max: options.maxEntries ?? DEFAULT_HOT_KEY_MAX_ENTRIES });
  }

  /** Forget what is remembered of `bucketId` (units were given back: Redis may admit again). */
  unblock(bucketId: string): void {
    this.#blocks.delete(bucketId);
  }

  /** Remember a rejection of `cost` for up to `retryAfterMs` (capped). */
  block(bucketId: string, cost: number, limit: number, retryAfterMs: number): void {
    const forMs = Math.min(retryAfterMs, this.#maxBlockMs);
    if (forMs <= 0) return;
    const now = this.#now();
    this.#blocks.set(bucketId, { untilMs: now + forMs, retryAtMs: now + retryAfterMs, cost, limit });
  }

  /**
   * Milliseconds the bucket is still known to reject `cost` for, or undefined when Redis must
   * be asked. Also returns the limit it was rejected under, for the response headers.
   */
  blockedFor(bucketId: string, cost: number): { retryAfterMs: number; limit: number } | undefined {
    const block = this.#blocks.get(bucketId);
    if (block === undefined || cost < block.cost) return undefined;
    const now = this.#now();
    if (block.untilMs <= now) {
      this.#blocks.delete(bucketId);
      return undefined;
    }
    return { retryAfterMs: Math.max(1, Math.ceil(block.retryAtMs - now)), limit: block.limit };
  }

  clear(): void {
    this.#blocks.clear();
  }
}
