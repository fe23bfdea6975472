/**
 * Rate limiting: who pays (`subject.ts`), how much (`policies.ts`, overridden at run time through
 * `policySource.ts`), the arithmetic (`gcra.ts`), where buckets live (`memoryStore.ts`,
 * `redisStore.ts`), the limiter (`limiter.ts`) with its mode machine and Redis fallback
 * (`mode.ts`, `modeTracker.ts`), where each decision is made (`routing.ts`, `hotKeys.ts`), and
 * the HTTP shape of a decision (`http.ts`). `server.ts` needs only
 * `createRateLimiter` and `rateLimitRequest`; the Redis client comes from `src/redis/`.
 */
export { createRateLimiter } from './limiter.ts';
export type { RateLimiter, RateLimiterDeps, RateLimiterOptions } from './limiter.ts';
export type {
  RateLimiterMetrics,
  RateLimiterMode,
  RateLimiterStats,
  RateLimitFailMode,
  RateLimitRejection,
  RateLimitResult,
  RateLimitSource,
} from './types.ts';
export { DEFAULT_EXPECTED_INSTANCES } from './limiter.ts';
export { DEFAULT_PROBE_INTERVAL_MS } from './modeTracker.ts';
export { DEFAULT_UNAVAILABLE_RETRY_AFTER_MS } from './routing.ts';
export { publishPolicies, RATE_LIMIT_POLICIES_KEY, DEFAULT_POLICY_POLL_INTERVAL_MS } from './policySource.ts';
export {
  DEFAULT_RATE_LIMIT_POLICIES,
  DEFAULT_FALLBACK_TIER,
  validatePolicies,
  type NamedRateLimitPolicy,
  type RateLimitPolicies,
  type RateLimitPolicy,
} from './policies.ts';
export { resolveRateLimitSubject, clientIp, normalizeIp } from './subject.ts';
export type { RateLimitSubject, RateLimitSubjectInput } from './subject.ts';
export { rateLimitHeaders, rateLimitedBody, rateLimitRequest, rateLimitStatus, retryAfterSeconds } from './http.ts';
export type { RateLimitErrorCode, RateLimitHeaders, RateLimitedBody, RateLimitOutcome, RateLimitRequestInput } from './http.ts';
export { MemoryStore } from './memoryStore.ts';
export { RedisStore, RATE_LIMIT_KEY_PREFIX } from './redisStore.ts';
export type { RateLimitDecision, RateLimitStore } from './store.ts';
export { RateLimitPolicyError } from './errors.ts';
export { createRateLimitQueue, DEFAULT_MAX_WAIT_MS, DEFAULT_QUEUE_SIZE } from './queue.ts';
export type { Admission, RateLimitQueue, RateLimitQueueMetrics, RateLimitQueueOptions, QueueDropReason } from './queue.ts';
export { costChargePlugin, DEFAULT_MIN_COST_CHARGE } from './costPlugin.ts';
export { createRateLimitHook, createRateLimitSubjectResolver, type RateLimitHookOptions } from './hook.ts';
export { createRateLimitEdge, type RateLimitEdge, type RateLimitEdgeOptions } from './edge.ts';
export type { CheckOptions } from './limiter.ts';
export type { RateLimitUnit } from './policies.ts';
