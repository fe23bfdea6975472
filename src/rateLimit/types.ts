import type { NamedRateLimitPolicy } from './policies.ts';
import type { RateLimitDecision } from './store.ts';

/**
 * The limiter's public vocabulary, apart from its implementation: what a decision says, the modes
 * it runs in, and the hooks it reports through. Read by the HTTP edge, metrics and ops.
 */

/**
 * - `redis`: buckets shared by all instances (exact limits).
 * - `local-fallback`: Redis is configured but unreachable (or not yet connected); each instance
 *   limits on its own at limit / expectedInstances (`failMode: 'open'`) or rejects (`'closed'`).
 * - `memory`: no Redis configured; each instance limits on its own at the full limit.
 */
export type RateLimiterMode = 'redis' | 'local-fallback' | 'memory';

/**
 * What to do while Redis is configured but unreachable.
 * - `open` (default): keep serving, limited per instance at limit / expectedInstances, so the
 *   fleet as a whole stays near the real quota. Losing Redis never fails traffic.
 * - `closed`: reject every request with 503 `RATE_LIMITER_UNAVAILABLE` until Redis is back. For
 *   deployments where an unenforced quota costs more than an outage.
 */
export type RateLimitFailMode = 'open' | 'closed';

/** Where a decision came from. */
export type RateLimitSource = 'redis' | 'hot-key-cache' | 'local-fallback' | 'memory' | 'unavailable';

/** Why a request was rejected. */
export type RateLimitRejection = 'quota' | 'cost-exceeds-limit' | 'limiter-unavailable';

export interface RateLimitResult extends RateLimitDecision {
  /** Tier whose policy was applied (unknown tiers are mapped to the fallback tier). */
  readonly tier: string;
  /** Bucket id: `<tier>:<subject key>`. */
  readonly bucketId: string;
  /**
   * Policy actually enforced: the tier's own, or limit / expectedInstances in local fallback.
   * What the `RateLimit-Policy` header advertises.
   */
  readonly policy: NamedRateLimitPolicy;
  readonly source: RateLimitSource;
  /** Set when `allowed` is false. */
  readonly rejection: RateLimitRejection | undefined;
}

export interface RateLimiterStats {
  /** Bucket updates sent to Redis. */
  readonly redisCalls: number;
  /** Of those, failed or timed out. */
  readonly redisErrors: number;
  /** Requests answered by the hot-key cache instead of Redis. */
  readonly avoidedRedisCalls: number;
  /** Requests decided while in `local-fallback`. */
  readonly fallbackDecisions: number;
}

/** Hooks for the metrics module; labels stay bounded (tier names come from the policy set). */
export interface RateLimiterMetrics {
  onDecision(tier: string, decision: RateLimitResult): void;
  onModeChange(mode: RateLimiterMode): void;
  /** Duration and outcome of each bucket update sent to Redis (not probes or policy polls). */
  onRedisCommand(seconds: number, ok: boolean): void;
  /** The instance count the local fallback divides quotas by, at start and on every change. */
  onLiveInstances?(count: number): void;
}
