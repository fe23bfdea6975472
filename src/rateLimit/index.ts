/**
 * Rate limiting: who pays (`subject.ts`), how much (`policies.ts`), the arithmetic (`gcra.ts`),
 * where buckets live (`memoryStore.ts`, `redisStore.ts`), the limiter with its Redis fallback
 * (`limiter.ts`) and the HTTP shape of a decision (`http.ts`). `server.ts` needs only
 * `createRateLimitRedis`, `createRateLimiter` and `rateLimitRequest`.
 */
export { createRateLimiter } from './limiter.ts';
export type {
  RateLimiter,
  RateLimiterDeps,
  RateLimiterMetrics,
  RateLimiterMode,
  RateLimiterOptions,
  RateLimiterStats,
  RateLimitFailMode,
  RateLimitRejection,
  RateLimitResult,
  RateLimitSource,
} from './limiter.ts';
export {
  DEFAULT_EXPECTED_INSTANCES,
  DEFAULT_PROBE_INTERVAL_MS,
  DEFAULT_UNAVAILABLE_RETRY_AFTER_MS,
} from './limiter.ts';
export { createRateLimitRedis, reconnectDelayMs, DEFAULT_REDIS_CONNECT_TIMEOUT_MS } from './redisClient.ts';
export type { RateLimitRedisDeps, RateLimitRedisOptions } from './redisClient.ts';
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
export { RedisStore, DEFAULT_REDIS_COMMAND_TIMEOUT_MS, RATE_LIMIT_KEY_PREFIX } from './redisStore.ts';
export type { RateLimitDecision, RateLimitStore } from './store.ts';
export { RateLimitPolicyError } from './errors.ts';
