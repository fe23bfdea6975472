/**
 * The error this folder throws to its caller (config, admin endpoint), never to clients: its code
 * is not in the catalogue. What clients get (`RATE_LIMITED`, `RATE_LIMITER_UNAVAILABLE`) is in
 * src/errors/catalogue.ts; the ops listener answers an invalid policy set with `BAD_REQUEST`.
 *
 * - `RATE_LIMIT_INVALID_POLICY`: a policy set passed to `setPolicies` / `publishPolicies` or
 *   given at start-up failed validation.
 */

/** Thrown for an invalid policy set; `message` names every offending field. */
export class RateLimitPolicyError extends Error {
  readonly code = 'RATE_LIMIT_INVALID_POLICY';

  constructor(message: string) {
    super(message);
    this.name = 'RateLimitPolicyError';
  }
}
