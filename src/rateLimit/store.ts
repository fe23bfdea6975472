import type { RateLimitPolicy } from './policies.ts';

/** The outcome of charging `cost` units against one bucket. All durations are whole ms. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** The policy's quota (units per window). */
  readonly limit: number;
  /** Units still admissible right now, after this decision. */
  readonly remaining: number;
  /** Until the bucket is full again, ms (0 for an untouched bucket). */
  readonly resetMs: number;
  /** Until a request of the same cost would be admitted, ms; 0 when allowed. */
  readonly retryAfterMs: number;
}

/**
 * Where buckets live. One call is one atomic read-modify-write of one bucket; implementations
 * never queue or retry, so a failed call has charged nothing or exactly once.
 */
export interface RateLimitStore {
  /**
   * Charge `cost` units to the bucket `bucketId` (already tier-qualified, e.g.
   * `anonymous:ip:203.0.113.7`). Rejects on I/O failure; never retries.
   */
  consume(bucketId: string, policy: RateLimitPolicy, cost: number): Promise<RateLimitDecision>;
}

const US_PER_MS = 1_000;

/** µs → whole ms, rounded up so a client told "retry after N" is never early. */
export function usToMs(us: number): number {
  return Math.ceil(us / US_PER_MS);
}
