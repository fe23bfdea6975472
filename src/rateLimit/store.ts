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
  /**
   * Admitted by reservation: the request must wait this long (ms, rounded up) before it runs.
   * 0 for an immediate admission and for every rejection.
   */
  readonly waitMs: number;
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
  consume(bucketId: string, policy: RateLimitPolicy, cost: number, maxDelayMs?: number): Promise<RateLimitDecision>;
  /**
   * Give back `cost` units a reservation charged (its client left before its turn). Best effort:
   * rejects on I/O failure, and a lost refund only costs the client those units.
   */
  refund(bucketId: string, policy: RateLimitPolicy, cost: number): Promise<void>;
}

const US_PER_MS = 1_000;

/** µs → whole ms, rounded up so a client told "retry after N" is never early. */
export function usToMs(us: number): number {
  return Math.ceil(us / US_PER_MS);
}
