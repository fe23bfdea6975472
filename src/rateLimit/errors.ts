/**
 * Stable codes this folder produces. Client-facing codes appear in `extensions.code` of a
 * GraphQL error body; the others are thrown to the caller (config, admin endpoint) only.
 *
 * - `RATE_LIMITED` (HTTP 429): the caller's tier quota is spent; `extensions.retryAfter` says
 *   when the request would be admitted.
 * - `RATE_LIMITER_UNAVAILABLE` (HTTP 503): `failMode: 'closed'` and Redis cannot be reached, so
 *   no decision could be made. The caller did nothing wrong; retrying after `retryAfter` works.
 * - `RATE_LIMIT_INVALID_POLICY`: a policy set passed to `setPolicies` / `publishPolicies` or
 *   given at start-up failed validation. Never sent to clients.
 */
export type RateLimitErrorCode =
  | 'RATE_LIMITED'
  | 'RATE_LIMITER_UNAVAILABLE'
  | 'RATE_LIMIT_INVALID_POLICY';

/** Thrown for an invalid policy set; `message` names every offending field. */
export class RateLimitPolicyError extends Error {
  readonly code = 'RATE_LIMIT_INVALID_POLICY' satisfies RateLimitErrorCode;

  constructor(message: string) {
    super(message);
    this.name = 'RateLimitPolicyError';
  }
}
