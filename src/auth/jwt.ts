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
import { checkProtectedHeader, extractBearerToken } from './bearer.ts';
import { principalFromClaims } from './claims.ts';
import { assertNotDevToken, DEV_KEYS_REFUSED } from './devKeys.ts';
import { authErrorFromJose } from './errors.ts';
import { createRemoteKeySource } from './jwks.ts';
import type { KeySource } from './jwks.ts';
import { createFileKeySource, createSecretKeySource } from './keys.ts';
import { resolveTokenVerifierOptions, TokenVerifierConfigError } from './options.ts';
import type { ResolvedTokenVerifierOptions } from './options.ts';
import { ANONYMOUS } from './principal.ts';
import type { Principal } from './principal.ts';
import type { TokenVerifier, TokenVerifierDeps, TokenVerifierOptions } from './types.ts';

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
