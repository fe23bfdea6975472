/**
 * Authentication: bearer token verification, the HTTP authentication step and identity
 * forwarding. The gateway imports from here only.
 */
export { createTokenVerifier } from './jwt.ts';
export type { TokenVerifier, TokenVerifierDeps, TokenVerifierOptions } from './types.ts';
export type { JwksFetchOutcome } from './jwks.ts';
export { AUTH_ERROR_REASONS, AuthError, bearerErrorOf, httpStatusOf, isAuthError, wwwAuthenticate } from './errors.ts';
export type { AuthErrorReason } from './errors.ts';
export {
  DEFAULT_CLOCK_TOLERANCE_S,
  DEFAULT_HMAC_ALGORITHMS,
  DEFAULT_JWKS_CACHE_MAX_AGE_MS,
  DEFAULT_JWKS_COOLDOWN_MS,
  DEFAULT_JWKS_MAX_STALE_MS,
  DEFAULT_JWKS_TIMEOUT_MS,
  DEFAULT_JWT_ALGORITHMS,
  DEFAULT_MAX_TOKEN_BYTES,
  DEFAULT_TIER_CLAIM,
  DEFAULT_VERIFY_CACHE_MAX_ENTRIES,
  DEFAULT_VERIFY_CACHE_TTL_MS,
  LOOPBACK_HOSTS,
  resolveTokenVerifierOptions,
  TokenVerifierConfigError,
} from './options.ts';
export { createFileKeySource } from './keys.ts';
export type { FileKeySourceOptions } from './keys.ts';
export { assertNotDevToken, DEV_ISSUER, DEV_KEY_ID_PREFIX, DEV_KEY_THUMBPRINTS, DEV_KEYS_REFUSED, devKeysIn, isDevJwk, jwkThumbprint } from './devKeys.ts';
export { checkBodyCredentials, checkHeaderCredentials } from './credentials.ts';
export { ANONYMOUS } from './principal.ts';
export type { Principal } from './principal.ts';
export { createAuthentication, refusalResponse, unauthenticatedResponse } from './http.ts';
export type { Authentication, AuthenticationDeps, AuthenticationOptions, AuthMode, InvalidAuthRequestBody, UnauthenticatedBody } from './http.ts';
export { assertForwardable, checkIdentityHeaderNames, DEFAULT_IDENTITY_HEADERS, identityHeaders } from './identity.ts';
export type { IdentityHeaderNames } from './identity.ts';
