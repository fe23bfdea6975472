import { LRUCache } from 'lru-cache';
import { gcraParams, gcraRefund, gcraStep } from './gcra.ts';
import type { RateLimitPolicy } from './policies.ts';
import { usToMs, type RateLimitDecision, type RateLimitStore } from './store.ts';

/**
 * Most buckets kept in process. 100k buckets of one number each is a few MB; past that the least
 * recently used bucket is dropped, which only ever forgives a client (it starts full again).
 */
export const DEFAULT_MEMORY_STORE_MAX_BUCKETS = 100_000;

export interface MemoryStoreOptions {
  /** Most buckets held; least recently used are evicted. Default `DEFAULT_MEMORY_STORE_MAX_BUCKETS`. */
  readonly maxBuckets?: number;
}

export interface MemoryStoreDeps {
  /** Monotonic clock, ms (fractions allowed). Default `performance.now`; tests inject their own. */
  readonly now?: () => number;
}

/**
 * Buckets in this process only: the limiter used when no Redis is configured and the fallback
 * while Redis is unreachable. Same GCRA arithmetic as the Redis script.
 */
export class MemoryStore implements RateLimitStore {
  readonly #buckets: LRUCache<string, number>;
  readonly #now: () => number;

  constructor(options: MemoryStoreOptions = {}, deps: MemoryStoreDeps = {}) {
    this.#now = deps.now ?? (() => performance.now());
    // No LRU TTL: expiry is implicit (a TAT in the past means a full bucket), so a stale entry
    // is harmless and only the size bound matters.
    this.#buckets = new LRUCache({ max: options.maxBuckets ?? DEFAULT_MEMORY_STORE_MAX_BUCKETS });
  }

  consume(bucketId: string, policy: RateLimitPolicy, cost: number, maxDelayMs = 0): Promise<RateLimitDecision> {
    return Promise.resolve(this.consumeSync(bucketId, policy, cost, maxDelayMs));
  }

  /** Synchronous form of `consume`, for callers that must not yield (and for unit tests). */
  consumeSync(bucketId: string, policy: RateLimitPolicy, cost: number, maxDelayMs = 0): RateLimitDecision {
    const nowUs = Math.floor(this.#now() * 1_000);
    const params = gcraParams(policy.limit, policy.windowMs);
    const outcome = gcraStep(this.#buckets.get(bucketId), nowUs, params, cost, Math.floor(maxDelayMs * 1_000));
    if (outcome.newTatUs !== undefined) this.#buckets.set(bucketId, outcome.newTatUs);
    return {
      allowed: outcome.allowed,
      limit: policy.limit,
      remaining: Math.min(policy.limit, outcome.remaining),
      resetMs: usToMs(outcome.resetUs),
      retryAfterMs: usToMs(outcome.retryAfterUs),
      waitMs: usToMs(outcome.waitUs),
    };
  }

  refund(bucketId: string, policy: RateLimitPolicy, cost: number): Promise<void> {
    this.refundSync(bucketId, policy, cost);
    return Promise.resolve();
  }

  refundSync(bucketId: string, policy: RateLimitPolicy, cost: number): void {
    const nowUs = Math.floor(this.#now() * 1_000);
    const tat = gcraRefund(this.#buckets.get(bucketId), nowUs, gcraParams(policy.limit, policy.windowMs), cost);
    if (tat === undefined) this.#buckets.delete(bucketId);
    else this.#buckets.set(bucketId, tat);
  }

  /** Buckets currently held (for tests and the status view). */
  get size(): number {
    return this.#buckets.size;
  }

  clear(): void {
    this.#buckets.clear();
  }
}
