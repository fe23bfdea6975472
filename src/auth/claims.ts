/**
 * Verified claims → {@link Principal}. Pure: runs after jose has checked signature, `exp`, `nbf`,
 * `iss` and `aud`, and decides only what the gateway reads from the token.
 */
import type { JWTPayload } from 'jose';
import { claimInvalid, missingClaim } from './errors.ts';
import type { Principal } from './principal.ts';

/**
 * Claims read for scopes, first present wins: `scope` (RFC 8693, space-separated string), then
 * `scp` (Azure AD/Okta; string or array), then `scopes` (array). Taking the first rather than the
 * union keeps one source of truth per token: authorization never guesses between two lists.
 */
export const SCOPE_CLAIMS = ['scope', 'scp', 'scopes'] as const;

const WHITESPACE = /\s/;

function parseScopes(value: unknown, claim: string): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter((s) => s !== '');
  if (Array.isArray(value)) {
    // RFC 6749 §3.3: a scope token is non-empty and has no whitespace; anything else is not a
    // scope we could match against a `@requiresScopes` directive, so refuse rather than drop.
    if (!value.every((s): s is string => typeof s === 'string' && s !== '' && !WHITESPACE.test(s))) {
      throw claimInvalid(claim);
    }
    return value;
  }
  throw claimInvalid(claim);
}

/**
 * Builds the principal of a verified token.
 *
 * @param payload claims of a token whose signature and time claims are already verified
 * @param tierClaim name of the claim holding the rate-limit tier
 * @throws AuthError `missing_claim` without `sub`; `claim_invalid` when `sub`, the scope claim or
 *   the tier claim has the wrong type
 */
export function principalFromClaims(payload: JWTPayload, tierClaim: string): Principal {
  if (!Object.hasOwn(payload, 'sub')) throw missingClaim('sub');
  const subject = payload.sub;
  if (typeof subject !== 'string' || subject === '') throw claimInvalid('sub');

  let scopes: string[] = [];
  for (const claim of SCOPE_CLAIMS) {
    if (Object.hasOwn(payload, claim)) {
      scopes = parseScopes(payload[claim], claim);
      break;
    }
  }

  let tier: string | undefined;
  if (Object.hasOwn(payload, tierClaim)) {
    const value = payload[tierClaim];
    if (typeof value !== 'string' || value === '') throw claimInvalid(tierClaim);
    tier = value;
  }

  return Object.freeze({
    kind: 'user',
    subject,
    scopes: Object.freeze([...new Set(scopes)]),
    tier,
  });
}
