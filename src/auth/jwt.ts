/**
 * Bearer token → {@link Principal}: the authentication step of every request.
 *
 * Order of work is cheapest-first so hostile input is refused before it costs anything: size →
 * `Bearer` syntax → verification cache → protected header (alg allowlist, key references) →
 * development issuer / kid where refused → key lookup + signature (jose) → time and issuer/audience claims (jose) → principal mapping.
 */
import { jwtVerify } from 'jose';
import type { JWTVerifyOptions } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { checkProtectedHeader, extractBearerToken } from './bearer.ts';
import { principalFromClaims } from './claims.ts';
import { assertNotDevToken, DEV_KEYS_REFUSED } from './devKeys.ts';
import { authErrorFromJose } from './errors.ts';
import { createRemoteKeySource } from './jwks.ts';
import type { JwksFetchOutcome, KeySource } from './jwks.ts';
import { createFileKeySource, createSecretKeySource } from './keys.ts';
import { resolveTokenVerifierOptions, TokenVerifierConfigError } from './options.ts';
import type { ResolvedTokenVerifierOptions } from './options.ts';
import { ANONYMOUS } from './principal.ts';
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

interface CachedVerification {
  readonly principal: Principal;
  /** Wall-clock ms: min(token exp, cached-at + TTL). */
  readonly expiresAtMs: number;
}

/**
 * Upper bound on the characters held as cache keys: 10k typical 1.6 KB tokens. Bounds memory even
 * if every entry were a maximum-size token.
 */
const VERIFY_CACHE_MAX_KEY_CHARS = 16 * 1024 * 1024;

function createKeySource(resolved: ResolvedTokenVerifierOptions, deps: TokenVerifierDeps): KeySource {
  const source = resolved.keySource;
  switch (source.kind) {
    case 'remote':
      return createRemoteKeySource(
        {
          url: source.url,
          timeoutMs: resolved.jwksTimeoutMs,
          cooldownMs: resolved.jwksCooldownMs,
          cacheMaxAgeMs: resolved.jwksCacheMaxAgeMs,
          maxStaleMs: resolved.jwksMaxStaleMs,
          refuseDevKeys: resolved.refuseDevKeys,
        },
        deps,
      );
    case 'file':
      return createFileKeySource(source.path, resolved.algorithms, { refuseDevKeys: resolved.refuseDevKeys });
    case 'secret':
      return createSecretKeySource(source.secret);
    default: {
      const exhaustive: never = source;
      throw new Error(`unknown key source ${String(exhaustive)}`);
    }
  }
}

/**
 * Creates the verifier. Reads `keyFile` synchronously; fetches nothing until the first token.
 *
 * @throws TokenVerifierConfigError listing every invalid option
 */
export function createTokenVerifier(options: TokenVerifierOptions, deps: TokenVerifierDeps): TokenVerifier {
  const resolved = resolveTokenVerifierOptions(options);
  const logger = deps.logger.child({ component: 'auth' });
  const keySource = createKeySource(resolved, deps);
  const allowedAlgorithms: ReadonlySet<string> = new Set(resolved.algorithms);
  const verifyOptions: JWTVerifyOptions = {
    algorithms: [...resolved.algorithms],
    issuer: resolved.issuer === undefined ? undefined : [...resolved.issuer],
    audience: resolved.audience === undefined ? undefined : [...resolved.audience],
    clockTolerance: resolved.clockToleranceS,
    // Without exp a stolen token is valid forever; sub is who the request acts for.
    requiredClaims: ['exp', 'sub'],
  };
  // Safe because an entry is written only after the signature and every claim check passed for
  // this exact string, and it is keyed by that exact string: any other string, even one bit
  // off, misses and is verified in full. Entries never outlive `exp`; see
  // DEFAULT_VERIFY_CACHE_TTL_MS for the bounded delay on key withdrawal.
  const cache =
    resolved.verifyCacheTtlMs > 0
      ? new LRUCache<string, CachedVerification>({
          max: resolved.verifyCacheMaxEntries,
          maxSize: VERIFY_CACHE_MAX_KEY_CHARS,
          sizeCalculation: (_value, key) => key.length,
        })
      : undefined;
  let state: 'open' | 'closed' = 'open';

  function remember(token: string, principal: Principal, exp: number | undefined): void {
    if (cache === undefined || exp === undefined) return;
    const now = Date.now();
    const expiresAtMs = Math.min(exp * 1000, now + resolved.verifyCacheTtlMs);
    // A token accepted only thanks to clock tolerance is not worth caching.
    if (expiresAtMs <= now) return;
    cache.set(token, { principal, expiresAtMs }, { ttl: expiresAtMs - now });
  }

  async function verify(authorizationHeader: string | undefined): Promise<Principal> {
    if (state === 'closed') throw new Error('token verifier is closed');
    if (authorizationHeader === undefined) return ANONYMOUS;
    const token = extractBearerToken(authorizationHeader, resolved.maxTokenBytes);

    const cached = cache?.get(token);
    // Wall clock checked too: the LRU's TTL runs on a monotonic clock, `exp` on the wall clock.
    if (cached !== undefined && Date.now() < cached.expiresAtMs) return cached.principal;

    try {
      const header = checkProtectedHeader(token, allowedAlgorithms);
      if (resolved.refuseDevKeys) assertNotDevToken(token, header);
      const { payload } = await jwtVerify(token, keySource.getKey, verifyOptions);
      const principal = principalFromClaims(payload, resolved.tierClaim);
      remember(token, principal, payload.exp);
      return principal;
    } catch (err) {
      const authError = authErrorFromJose(err);
      if (authError === undefined) {
        // Not a token problem we know: a bug or a broken key. Let the HTTP layer mask it as 500.
        logger.error({ err }, 'token verification failed unexpectedly');
        throw err;
      }
      logger.debug({ reason: authError.reason, claim: authError.claim, err: authError.cause }, 'token refused');
      throw authError;
    }
  }

  function precheck(authorizationHeader: string): void {
    if (state === 'closed') throw new Error('token verifier is closed');
    const token = extractBearerToken(authorizationHeader, resolved.maxTokenBytes);
    const cached = cache?.get(token);
    if (cached !== undefined && Date.now() < cached.expiresAtMs) return;
    const header = checkProtectedHeader(token, allowedAlgorithms);
    if (resolved.refuseDevKeys) assertNotDevToken(token, header);
  }

  async function assertNoDevKeys(): Promise<void> {
    if (!resolved.refuseDevKeys || keySource.inspectDevKeys === undefined) return;
    const found = await keySource.inspectDevKeys();
    if (found === undefined) {
      logger.warn('JWKS could not be fetched at start-up to check it for development keys; every fetched key set and every token is still checked');
      return;
    }
    if (found.length > 0 && resolved.keySource.kind === 'remote') {
      throw new TokenVerifierConfigError([`jwksUrl ${resolved.keySource.url.href} serves development keys (${found.join(', ')}): ${DEV_KEYS_REFUSED}`]);
    }
  }

  return {
    verify,
    precheck,
    assertNoDevKeys,
    close() {
      if (state === 'closed') return;
      state = 'closed';
      keySource.close();
      cache?.clear();
    },
  };
}
