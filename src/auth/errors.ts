/**
 * Authentication failures as stable, client-safe codes.
 *
 * Every token problem becomes one {@link AuthError} with a {@link AuthErrorReason}. The HTTP layer
 * maps each of them to 401 + `UNAUTHENTICATED` + a `WWW-Authenticate` challenge
 * ({@link wwwAuthenticate}), except `invalid_request` (credentials sent ambiguously or in a place
 * we do not read them): 400 + `INVALID_AUTH_REQUEST` (RFC 6750 §3.1); both codes and statuses
 * are in src/errors/catalogue.ts. Logs and metrics use `reason` (a bounded label), which never
 * reaches `extensions.code`. jose errors are translated here, on their `code` and structured
 * fields, never on message text.
 */

/**
 * Why a token was refused. Part of the API: metrics label on it and clients may read it.
 *
 * - `malformed`           the header is not `Bearer <token>`, or the token is not a compact JWS
 * - `too_large`           token longer than the configured maximum; refused before parsing
 * - `header_not_allowed`  protected header carries `jku`, `x5u`, `jwk` or `x5c` (key references
 *                         we never follow; a legitimate token from our IdP has none)
 * - `alg_not_allowed`     `alg` outside the allowlist (`none` always is)
 * - `expired`             `exp` in the past, beyond the clock tolerance
 * - `not_yet_valid`       `nbf` in the future, beyond the clock tolerance
 * - `bad_signature`       signature does not verify with the selected key
 * - `unknown_key`         no published key matches the token's `kid`/`alg` (or several do)
 * - `claim_invalid`       a claim has the wrong type or value (`iss`, `aud`, `sub`, scopes, tier…)
 * - `missing_claim`       a required claim (`exp`, `sub`, or configured `iss`/`aud`) is absent
 * - `jwks_unavailable`    keys could not be fetched and no last-good key set is young enough
 * - `dev_key`             a development token (issuer `portico-dev-idp` or a `portico-dev-` kid)
 *                         where development keys are refused (production)
 * - `invalid_request`     more than one `Authorization` header, or an `access_token` in the query
 *                         string or body: refused (400) before any verification
 */
export const AUTH_ERROR_REASONS = [
  'malformed',
  'too_large',
  'header_not_allowed',
  'alg_not_allowed',
  'expired',
  'not_yet_valid',
  'bad_signature',
  'unknown_key',
  'claim_invalid',
  'missing_claim',
  'jwks_unavailable',
  'dev_key',
  'invalid_request',
] as const;

export type AuthErrorReason = (typeof AUTH_ERROR_REASONS)[number];

/** Default client-facing message per reason: says what is wrong, never how we are configured. */
const DEFAULT_MESSAGES: Readonly<Record<AuthErrorReason, string>> = {
  malformed: 'token is malformed',
  too_large: 'token is too large',
  header_not_allowed: 'token header carries a key reference (jku, x5u, jwk or x5c) that is not accepted',
  alg_not_allowed: 'token signed with an algorithm that is not allowed',
  expired: 'token expired',
  not_yet_valid: 'token is not yet valid',
  bad_signature: 'token signature is invalid',
  unknown_key: 'token signed with an unknown key',
  claim_invalid: 'token has an invalid claim',
  missing_claim: 'token is missing a required claim',
  jwks_unavailable: 'token cannot be verified right now: signing keys are unavailable',
  dev_key: 'token was issued by the development identity provider, which this gateway does not trust',
  invalid_request: 'send the token once, in one Authorization: Bearer header',
};

/** Thrown by the token verifier for every token it refuses. `message` is safe to send to clients. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  /** Stable code; see {@link AuthErrorReason}. */
  readonly reason: AuthErrorReason;
  /** The claim concerned, for `claim_invalid` / `missing_claim` (a claim name, never its value). */
  readonly claim: string | undefined;

  constructor(reason: AuthErrorReason, options: { message?: string; claim?: string; cause?: unknown } = {}) {
    super(options.message ?? DEFAULT_MESSAGES[reason], options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.claim = options.claim;
  }
}

export function isAuthError(err: unknown): err is AuthError {
  return err instanceof AuthError;
}

/** `claim_invalid` naming the claim, so a client developer knows which one to fix. */
export function claimInvalid(claim: string, cause?: unknown): AuthError {
  return new AuthError('claim_invalid', { message: `token claim ${claim} is invalid`, claim, cause });
}

/** `missing_claim` naming the claim. */
export function missingClaim(claim: string, cause?: unknown): AuthError {
  return new AuthError('missing_claim', { message: `token is missing the ${claim} claim`, claim, cause });
}

/**
 * Translates a jose error into an {@link AuthError} on its `code` (and, for claim failures, its
 * structured `claim` / `reason` fields). Returns `undefined` for anything that is not a jose or
 * auth error, so the caller can treat it as a bug rather than as a bad token.
 */
export function authErrorFromJose(err: unknown): AuthError | undefined {
  if (err instanceof AuthError) return err;
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return undefined;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return new AuthError('expired', { cause: err });
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const { claim, reason } = err as { claim?: unknown; reason?: unknown };
      const name = typeof claim === 'string' ? claim : 'unknown';
      if (reason === 'missing') return missingClaim(name, err);
      if (name === 'nbf' && reason === 'check_failed') return new AuthError('not_yet_valid', { cause: err });
      return claimInvalid(name, err);
    }
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new AuthError('bad_signature', { cause: err });
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return new AuthError('unknown_key', { cause: err });
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new AuthError('alg_not_allowed', { cause: err });
    // Structurally broken token, unencoded payload, unknown `crit` extension, non-object claims.
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return new AuthError('malformed', { cause: err });
    // A published key jose cannot use (private member, bad parameters): to the client it is a
    // token whose key we do not have; the cause is logged for operators.
    case 'ERR_JWKS_INVALID':
    case 'ERR_JWK_INVALID':
      return new AuthError('unknown_key', { cause: err });
    default:
      return undefined;
  }
}

/**
 * Characters allowed in `error_description` (RFC 6750 §3: %x20-21 / %x23-5B / %x5D-7E), so a
 * message can never break out of the quoted string.
 */
const NOT_DESCRIPTION_SAFE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;

/** RFC 6750 §3.1 error code of a refusal: the request's shape, or the token itself. */
export function bearerErrorOf(err: AuthError): 'invalid_request' | 'invalid_token' {
  return err.reason === 'invalid_request' ? 'invalid_request' : 'invalid_token';
}

/** HTTP status of a refusal (RFC 6750 §3.1): 400 for `invalid_request`, 401 for a bad token. */
export function httpStatusOf(err: AuthError | undefined): 400 | 401 {
  return err !== undefined && bearerErrorOf(err) === 'invalid_request' ? 400 : 401;
}

/**
 * Value of the `WWW-Authenticate` header of a refusal.
 *
 * With an error: `Bearer error="invalid_token", error_description="token expired"` (or
 * `error="invalid_request"`, see {@link bearerErrorOf}).
 * Without one (no credentials were sent to a route that requires them, RFC 6750 §3.1): `Bearer`.
 */
export function wwwAuthenticate(err?: AuthError): string {
  if (err === undefined) return 'Bearer';
  const description = err.message.replace(NOT_DESCRIPTION_SAFE, '?');
  return `Bearer error="${bearerErrorOf(err)}", error_description="${description}"`;
}
