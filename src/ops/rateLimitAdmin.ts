import type { RateLimiter } from '../rateLimit/limiter.ts';
import { RateLimitPolicyError } from '../rateLimit/errors.ts';
import { parsePoliciesDocument } from '../rateLimit/policies.ts';
import type { RateLimitAdmin } from './index.ts';

/**
 * `POST /admin/ratelimits` for one instance: the body is the same document ops publish to Redis
 * (`{"tiers": {"anonymous": {"limit": 10, "windowMs": 60000}}}`), validated the same way.
 * Listed tiers override the configured ones on this instance until the Redis document next
 * changes; `{"tiers": {}}` drops the overrides. Answers with the policies now in force.
 */
export function rateLimitAdminFor(limiter: Pick<RateLimiter, 'setPolicies' | 'policies'>): RateLimitAdmin {
  return (body) => {
    const parsed = parsePoliciesDocument(JSON.stringify(body ?? null));
    if (!parsed.ok) throw new RateLimitPolicyError(`expected {"tiers": {"<tier>": {"limit": n, "windowMs": ms}}}: ${parsed.error}`);
    limiter.setPolicies(parsed.policies);
    return { applied: parsed.policies, policies: limiter.policies() };
  };
}
