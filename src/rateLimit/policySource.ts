import type { Logger } from 'pino';
import type { RedisClient } from '../redis/client.ts';
import { withDeadline } from '../redis/deadline.ts';
import { extend } from '../runtime/objects.ts';
import {
  DEFAULT_RATE_LIMIT_POLICIES,
  parsePoliciesDocument,
  policyForTier,
  serializePoliciesDocument,
  validatePolicies,
  type NamedRateLimitPolicy,
  type RateLimitPolicies,
} from './policies.ts';

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

export interface PolicySourceOptions {
  /**
   * Configured quotas by tier; tiers not listed keep `DEFAULT_RATE_LIMIT_POLICIES`. Throws
   * `RateLimitPolicyError` if invalid.
   */
  readonly policies: RateLimitPolicies | undefined;
  /** Tier applied to subjects whose tier has no policy. Must exist, or the source throws. */
  readonly fallbackTier: string;
  /** Redis key of the policy document. */
  readonly policiesKey: string;
  /** Budget of one read of the document, ms. */
  readonly commandTimeoutMs: number;
}

export interface PolicySourceDeps {
  readonly logger: Logger;
  /** Undefined: configured policies and `setOverrides` only. */
  readonly redis: RedisClient | undefined;
  /** After every change of the policies in force (a cached rejection may be wrong under the new quota). */
  onChange(): void;
}

export interface PolicySource {
  /** The policies in force: configured, with runtime overrides applied. */
  policies(): RateLimitPolicies;
  /** The policy a tier is limited under: its own, else the fallback tier's. */
  policyFor(tier: string): NamedRateLimitPolicy;
  /**
   * Replace the runtime overrides (tiers listed win over configured ones) until the Redis document
   * next changes. Throws `RateLimitPolicyError` if invalid.
   */
  setOverrides(overrides: RateLimitPolicies): void;
  /** Read the Redis document once and apply it if it changed; a failed read keeps the current policies. */
  poll(): Promise<void>;
}

/**
 * The quotas one limiter enforces: configured ones, overridden at run time by the document ops
 * publish in Redis (`publishPolicies`, read by `poll`) or by a local `setOverrides`.
 */
export function createPolicySource(options: PolicySourceOptions, deps: PolicySourceDeps): PolicySource {
  const { logger, redis } = deps;
  const { fallbackTier, policiesKey } = options;
  const configured = validatePolicies(extend(DEFAULT_RATE_LIMIT_POLICIES, options.policies));
  if (!Object.hasOwn(configured, fallbackTier)) {
    const tiers = Object.keys(configured).join(', ');
    throw new Error(`rate-limit fallbackTier "${fallbackTier}" has no policy (tiers: ${tiers})`);
  }
  // Overrides may add or change tiers but never remove one, so the fallback tier always resolves.
  let effective: RateLimitPolicies = configured;
  let lastDocument: string | null = null;
  let polling = false;

  async function poll(): Promise<void> {
    if (!redis || redis.status !== 'ready' || polling) return;
    polling = true;
    try {
      const raw = await withDeadline(redis.get(policiesKey), options.commandTimeoutMs);
      applyDocument(raw);
    } catch (error) {
      logger.debug({ err: error }, 'rate-limit policy poll failed; keeping current policies');
    } finally {
      polling = false;
    }
  }

  function applyDocument(raw: string | null): void {
    // Only a changed document is applied, so a local setPolicies() holds until ops publish again,
    // and a bad document is logged once, not every poll.
    if (raw === lastDocument) return;
    lastDocument = raw;
    if (raw === null) {
      applyOverrides({}, 'redis (document removed)');
      return;
    }
    const parsed = parsePoliciesDocument(raw);
    if (!parsed.ok) {
      logger.warn(
        { event: 'rate_limit_policies_rejected', key: policiesKey, error: parsed.error },
        `ignored invalid rate-limit policy document at ${policiesKey}; keeping current policies`,
      );
      return;
    }
    applyOverrides(parsed.policies, 'redis');
  }

  function applyOverrides(overrides: RateLimitPolicies, source: string): void {
    effective = Object.freeze(extend(configured, overrides));
    deps.onChange();
    logger.info({ event: 'rate_limit_policies', source, policies: effective }, 'rate-limit policies updated');
  }

  return {
    policies: () => effective,
    policyFor: (tier) => policyForTier(effective, tier, fallbackTier)!,
    setOverrides(overrides) {
      applyOverrides(validatePolicies(overrides), 'api');
    },
    poll,
  };
}
