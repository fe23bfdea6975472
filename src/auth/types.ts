/**
 * The token verifier's contract: its options, its dependencies and what it offers. Apart from
 * `jwt.ts` (the verifier) and `options.ts` (defaults and validation), which both need it.
 */
import type { Logger } from 'pino';
import type { JwksFetchOutcome } from './jwks.ts';
import type { Principal } from './principal.ts';

/**
 * How tokens are verified. Exactly one key source: `jwksUrl`, `keyFile` or `hsSecret`.
 * Defaults are the `DEFAULT_*` constants in `options.ts`.
 */
export interface TokenVerifierOptions {
  /** JWKS endpoint of the IdP. https, or http on loopback only. */
  jwksUrl?: string | URL | undefined;
  /** Offline keys: a JWKS JSON file, or a PEM public key / certificate. Read once at creation. */
  keyFile?: string | undefined;
  /**
   * Shared HMAC secret. Only when explicitly configured: enables HS256/384/512 and nothing else.
   * At least 32/48/64 bytes for HS256/384/512.
   */
  hsSecret?: string | undefined;
  /** Accepted `iss` value(s); `iss` is required and checked when set. Default: not checked. */
  issuer?: string | readonly string[] | undefined;
  /** Accepted `aud` value(s) (any one must match); required and checked when set. Default: not checked. */
  audience?: string | readonly string[] | undefined;
  /**
   * Allowed `alg` values. Default `['RS256', 'ES256', 'EdDSA']`, or `['HS256']` with `hsSecret`.
   * `none` is refused at creation; HS* only with `hsSecret`, asymmetric ones only without it.
   */
  algorithms?: readonly string[] | undefined;
  /** Seconds of skew tolerated on `exp`/`nbf`. Default 30. */
  clockToleranceS?: number | undefined;
  /** Largest accepted token in bytes, checked before parsing. Default 8192. */
  maxTokenBytes?: number | undefined;
  /** JWKS fetch timeout, ms. Default 2000. */
  jwksTimeoutMs?: number | undefined;
  /** Minimum ms between JWKS fetches caused by unknown `kid`s or retrying a failure. Default 30000. */
  jwksCooldownMs?: number | undefined;
  /** Age in ms after which JWKS keys are refetched. Default 600000 (10 min). */
  jwksCacheMaxAgeMs?: number | undefined;
  /** How long in ms the last good JWKS keeps verifying while the endpoint fails. Default 86400000 (24 h). */
  jwksMaxStaleMs?: number | undefined;
  /** Claim holding the rate-limit tier. Default `tier`. */
  tierClaim?: string | undefined;
  /**
   * Ms a successful verification is reused for the identical token string, never past its `exp`.
   * Default 30000; 0 disables the cache.
   */
  verifyCacheTtlMs?: number | undefined;
  /** Distinct tokens kept in the verification cache. Default 10000. */
  verifyCacheMaxEntries?: number | undefined;
  /**
   * Refuse development keys and tokens (see devKeys.ts): a key file holding one fails creation,
   * a fetched JWKS holding one counts as a failed fetch, {@link TokenVerifier.assertNoDevKeys}
   * rejects when the JWKS serves one, and every development token is refused (`dev_key`).
   * Default false; Portico's config sets it in production unless PORTICO_ALLOW_DEV_KEYS=true.
   */
  refuseDevKeys?: boolean | undefined;
}

export interface TokenVerifierDeps {
  readonly logger: Logger;
  /** Called on every JWKS fetch outcome, and each time last-good keys are used; for metrics. */
  readonly onJwksFetch?: ((outcome: JwksFetchOutcome) => void) | undefined;
}

export interface TokenVerifier {
  /**
   * Verifies the `Authorization` header value.
   *
   * @returns {@link ANONYMOUS} when the header is absent (the caller decides whether that is
   *   allowed), otherwise the token's user principal
   * @throws AuthError for every refused token (map to 401 with {@link wwwAuthenticate})
   */
  verify(authorizationHeader: string | undefined): Promise<Principal>;
  /**
   * The checks of {@link verify} that need no key and read no claim: size, `Bearer` syntax and
   * the protected header (alg allowlist, key references). Synchronous and cheap, so the HTTP
   * edge runs it before reading the body; passes at once for a token verified recently.
   *
   * @throws AuthError for a token {@link verify} would refuse for one of these reasons
   */
  precheck(authorizationHeader: string): void;
  /**
   * With `refuseDevKeys` and a JWKS URL: fetches the key set now and rejects when it holds a
   * development key. Resolves otherwise, also when the fetch fails (logged; every later fetch
   * and every token is still checked). Call once at start-up; a no-op in every other case.
   *
   * @throws TokenVerifierConfigError naming `jwksUrl` and the development keys served
   */
  assertNoDevKeys(): Promise<void>;
  /** Stops JWKS I/O and drops cached verifications. Idempotent; `verify` throws afterwards. */
  close(): void;
}
