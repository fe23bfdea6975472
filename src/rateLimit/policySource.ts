import type { RedisClient } from '../redis/client.ts';
import { serializePoliciesDocument, validatePolicies, type RateLimitPolicies } from './policies.ts';

/**
 * Redis key of the runtime policy document. A plain key, not hash-tagged: it is read and written
 * alone (GET / SET), so on Redis Cluster it simply lives in its own slot. It has no TTL on
 * purpose: it is configuration, not a bucket.
 */
export const RATE_LIMIT_POLICIES_KEY = 'portico:rl:policies';

/**
 * How often each instance re-reads the policy document, ms. One GET per instance per 2 s is
 * nothing for Redis, and ops see a change everywhere within a couple of seconds.
 */
export const DEFAULT_POLICY_POLL_INTERVAL_MS = 2_000;

/**
 * Publish tier overrides to every instance: validates, then replaces the document at
 * `RATE_LIMIT_POLICIES_KEY`. Tiers not listed keep each instance's configured policy; publishing
 * `{}` removes every override. Instances apply it at their next poll. Throws
 * `RateLimitPolicyError` for an invalid set, or the Redis error when the write fails.
 * For the ops admin endpoint.
 */
export async function publishPolicies(
  redis: RedisClient,
  policies: RateLimitPolicies,
  key: string = RATE_LIMIT_POLICIES_KEY,
): Promise<void> {
  const valid = validatePolicies(policies);
  await redis.set(key, serializePoliciesDocument(valid));
}
