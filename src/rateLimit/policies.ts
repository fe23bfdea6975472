import { z } from 'zod';
import { RateLimitPolicyError } from './errors.ts';

/** One tier's quota: `limit` units of cost per `windowMs`, refilled continuously (GCRA). */
export interface RateLimitPolicy {
  /** Units admitted per window; a fresh bucket admits this many at once. */
  readonly limit: number;
  /** Window length, ms. Also the `w` of `RateLimit-Policy` (in seconds). */
  readonly windowMs: number;
}

/** Policies by tier name (`anonymous`, `free`, `premium`, or any tier an override adds). */
export type RateLimitPolicies = Readonly<Record<string, RateLimitPolicy>>;

/**
 * What a quota counts: requests (one unit each), or cost units (each request charged its
 * estimated cost, `src/hardening/cost.ts`, at least the configured minimum).
 */
export type RateLimitUnit = 'requests' | 'cost';

/** A policy together with the tier it applies to; what a decision was made under. */
export interface NamedRateLimitPolicy extends RateLimitPolicy {
  readonly name: string;
  /** Absent: requests. */
  readonly unit?: RateLimitUnit;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * Built-in quotas, used for every tier an override does not mention.
 * anonymous: per client IP, enough for a person browsing, far too little for a scraper.
 * free / premium: per verified subject or API key, per day, as sold.
 */
export const DEFAULT_RATE_LIMIT_POLICIES: RateLimitPolicies = Object.freeze({
  anonymous: Object.freeze({ limit: 60, windowMs: MINUTE_MS }),
  free: Object.freeze({ limit: 500, windowMs: DAY_MS }),
  premium: Object.freeze({ limit: 10_000, windowMs: DAY_MS }),
});

/** Tier used when a subject's tier has no policy (e.g. a token claims an unknown tier). */
export const DEFAULT_FALLBACK_TIER = 'free';

// Tier names end up in a Redis key, a structured header string and a metric label: keep them
// to a small safe alphabet so none of the three needs escaping.
const tierNameSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'tier names are 1-64 of [A-Za-z0-9_.-]');

// 31 days: longer windows make TTLs and µs arithmetic meaningless for a gateway quota.
const MAX_WINDOW_MS = 31 * DAY_MS;

const policySchema = z
  .object({
    limit: z.int().min(1),
    windowMs: z.int().min(1_000).max(MAX_WINDOW_MS),
  })
  .strict()
  // GCRA needs at least 1 µs between units; beyond that a limit is meaningless anyway.
  .refine((p) => p.limit <= p.windowMs * 1_000, { message: 'limit must be at most windowMs * 1000' });

const policiesSchema = z.record(tierNameSchema, policySchema);

/**
 * The JSON document stored at `portico:rl:policies`: `{ "tiers": { "<tier>": { "limit": n,
 * "windowMs": ms } } }`. Tiers listed override the configured ones; others keep theirs.
 */
export const policiesDocumentSchema = z.object({ tiers: policiesSchema }).strict();

export type RateLimitPoliciesDocument = z.infer<typeof policiesDocumentSchema>;

/** Validate a policy set; throws `RateLimitPolicyError` naming every problem. */
export function validatePolicies(input: unknown): RateLimitPolicies {
  const parsed = policiesSchema.safeParse(input);
  if (!parsed.success) {
    throw new RateLimitPolicyError(`invalid rate-limit policies: ${z.prettifyError(parsed.error)}`);
  }
  return freezePolicies(parsed.data);
}

/** Parse the Redis document; a result, never a throw, because a bad document is only logged. */
export function parsePoliciesDocument(
  raw: string,
): { ok: true; policies: RateLimitPolicies } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  const parsed = policiesDocumentSchema.safeParse(json);
  if (!parsed.success) return { ok: false, error: z.prettifyError(parsed.error) };
  return { ok: true, policies: freezePolicies(parsed.data.tiers) };
}

/** The document `publishPolicies` writes for `policies`. */
export function serializePoliciesDocument(policies: RateLimitPolicies): string {
  const doc: RateLimitPoliciesDocument = { tiers: { ...policies } };
  return JSON.stringify(doc);
}

/**
 * The policy a tier is limited under: its own, else `fallbackTier`'s. Returns the tier actually
 * used, so bucket keys and metric labels only ever carry configured tier names.
 */
export function policyForTier(
  policies: RateLimitPolicies,
  tier: string,
  fallbackTier: string,
): NamedRateLimitPolicy | undefined {
  const own = Object.hasOwn(policies, tier) ? policies[tier] : undefined;
  if (own) return { name: tier, ...own };
  const fallback = Object.hasOwn(policies, fallbackTier) ? policies[fallbackTier] : undefined;
  return fallback ? { name: fallbackTier, ...fallback } : undefined;
}

function freezePolicies(policies: Record<string, RateLimitPolicy>): RateLimitPolicies {
  const out: Record<string, RateLimitPolicy> = {};
  for (const [tier, p] of Object.entries(policies)) {
    out[tier] = Object.freeze({ limit: p.limit, windowMs: p.windowMs });
  }
  return Object.freeze(out);
}
