/**
 * Defaults and validation for {@link TokenVerifierOptions}. Pure: resolves once at start-up,
 * collects every problem and throws them together, like the rest of Portico's config.
 */
import type { TokenVerifierOptions } from './types.ts';
import { extend } from '../runtime/objects.ts';

/**
 * Asymmetric algorithms accepted when none are configured: what mainstream IdPs sign with
 * (Auth0/Okta/Keycloak/Entra default to RS256; ES256 and EdDSA are the modern choices).
 */
export const DEFAULT_JWT_ALGORITHMS: readonly string[] = Object.freeze(['RS256', 'ES256', 'EdDSA']);

/** Algorithm accepted with a shared secret when none are configured. */
export const DEFAULT_HMAC_ALGORITHMS: readonly string[] = Object.freeze(['HS256']);

/**
 * Seconds of clock skew tolerated on `exp`/`nbf`. NTP keeps hosts within ~1 s; 30 s absorbs a
 * drifting VM without materially lengthening tokens that live 5–60 min.
 */
export const DEFAULT_CLOCK_TOLERANCE_S = 30;

/**
 * Largest accepted token, in bytes, checked before parsing. Access tokens are 0.8–2 KB; 8 KiB
 * leaves room for fat scope lists and stays under Node's 16 KiB total header limit.
 */
export const DEFAULT_MAX_TOKEN_BYTES = 8 * 1024;

/**
 * JWKS fetch timeout in ms. The JWKS is a small static document; an IdP that needs more than 2 s
 * is down for our purposes, and requests are waiting on it (last-good keys are used meanwhile).
 */
export const DEFAULT_JWKS_TIMEOUT_MS = 2_000;

/**
 * Minimum ms between JWKS fetches triggered by unknown `kid`s (and between retries after a failed
 * fetch). jose's default: a flood of random `kid`s costs the IdP at most 2 requests a minute.
 */
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;

/**
 * Age in ms after which cached keys are refetched even if every `kid` is known. jose's default:
 * a key the IdP withdraws (compromise, rotation) stops being trusted within 10 minutes.
 */
export const DEFAULT_JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;

/**
 * How long in ms the last good key set keeps verifying while the JWKS endpoint is failing. 24 h
 * rides out an IdP outage overnight; beyond that a withdrawn key could have been compromised.
 */
export const DEFAULT_JWKS_MAX_STALE_MS = 24 * 60 * 60_000;

/** Claim holding the rate-limit tier. */
export const DEFAULT_TIER_CLAIM = 'tier';

/**
 * How long in ms a successful verification is reused for the same token string (never past its
 * `exp`). A client repeats its token on every request; 30 s bounds how long a withdrawn key still
 * admits an already-seen token, which is far below the JWKS cache age above.
 */
export const DEFAULT_VERIFY_CACHE_TTL_MS = 30_000;

/** Distinct tokens kept in the verification cache: ~10k active clients per instance. */
export const DEFAULT_VERIFY_CACHE_MAX_ENTRIES = 10_000;

/** Algorithms jose verifies with public keys (JWKS, PEM). */
export const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
]);

/**
 * HMAC algorithms and their minimum secret length in bytes (RFC 7518 §3.2: at least the hash
 * size), so a short guessable secret is refused at start-up instead of brute-forced later.
 */
export const HMAC_MIN_SECRET_BYTES: ReadonlyMap<string, number> = new Map([
  ['HS256', 32],
  ['HS384', 48],
  ['HS512', 64],
]);

/** Where verification keys come from; exactly one per verifier. */
export type KeySourceConfig =
  | { readonly kind: 'remote'; readonly url: URL }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'secret'; readonly secret: Uint8Array };

/** {@link TokenVerifierOptions} with every default applied and every value checked. */
export interface ResolvedTokenVerifierOptions {
  readonly keySource: KeySourceConfig;
  readonly algorithms: readonly string[];
  readonly issuer: readonly string[] | undefined;
  readonly audience: readonly string[] | undefined;
  readonly clockToleranceS: number;
  readonly maxTokenBytes: number;
  readonly jwksTimeoutMs: number;
  readonly jwksCooldownMs: number;
  readonly jwksCacheMaxAgeMs: number;
  readonly jwksMaxStaleMs: number;
  readonly tierClaim: string;
  readonly verifyCacheTtlMs: number;
  readonly verifyCacheMaxEntries: number;
  readonly refuseDevKeys: boolean;
}

/** Invalid verifier options; `problems` lists each one (option name, value class, what is allowed). */
export class TokenVerifierConfigError extends Error {
  override readonly name = 'TokenVerifierConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid token verifier options:\n- ${problems.join('\n- ')}`);
  }
}

/** Hosts where plain http is acceptable: traffic never leaves the machine. */
export const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

function number(
  problems: string[],
  name: string,
  value: number | undefined,
  fallback: number,
  rule: { integer?: boolean; min: number; allowInfinity?: boolean },
): number {
  if (value === undefined) return fallback;
  const finiteOk = Number.isFinite(value) || (rule.allowInfinity === true && value === Infinity);
  if (typeof value !== 'number' || !finiteOk || value < rule.min || (rule.integer === true && Number.isFinite(value) && !Number.isInteger(value))) {
    problems.push(`${name} must be ${rule.integer === true ? 'an integer' : 'a number'} >= ${rule.min}, got ${String(value)}`);
    return fallback;
  }
  return value;
}

function stringList(problems: string[], name: string, value: string | readonly string[] | undefined): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : [...value];
  if (list.length === 0 || list.some((s) => typeof s !== 'string' || s.trim() === '')) {
    problems.push(`${name} must be a non-empty string or list of non-empty strings`);
    return undefined;
  }
  return Object.freeze(list);
}

function keySource(problems: string[], options: TokenVerifierOptions): KeySourceConfig | undefined {
  const given = (['jwksUrl', 'keyFile', 'hsSecret'] as const).filter((k) => options[k] !== undefined && options[k] !== '');
  if (given.length !== 1) {
    problems.push(
      given.length === 0
        ? 'one key source is required: jwksUrl, keyFile or hsSecret'
        : `exactly one key source is allowed, got ${given.join(' + ')}`,
    );
    return undefined;
  }
  if (options.jwksUrl !== undefined && options.jwksUrl !== '') {
    let url: URL;
    try {
      url = new URL(String(options.jwksUrl));
    } catch {
      problems.push('jwksUrl must be an absolute URL');
      return undefined;
    }
    // Keys fetched over plain HTTP can be swapped by anyone on the path; allow it only on loopback
    // (the dev IdP and tests).
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.test(url.hostname))) {
      problems.push('jwksUrl must use https (http is allowed only for localhost / 127.0.0.1 / [::1])');
      return undefined;
    }
    return { kind: 'remote', url };
  }
  if (options.keyFile !== undefined && options.keyFile !== '') return { kind: 'file', path: options.keyFile };
  return { kind: 'secret', secret: new TextEncoder().encode(options.hsSecret ?? '') };
}

function algorithms(problems: string[], configured: readonly string[] | undefined, source: KeySourceConfig | undefined): readonly string[] {
  const hmac = source?.kind === 'secret';
  const list = configured === undefined ? [...(hmac ? DEFAULT_HMAC_ALGORITHMS : DEFAULT_JWT_ALGORITHMS)] : [...new Set(configured)];
  if (list.length === 0) problems.push('algorithms must not be empty');
  for (const alg of list) {
    if (alg.toLowerCase() === 'none') {
      problems.push('algorithms must not contain "none": unsigned tokens are never accepted');
    } else if (HMAC_MIN_SECRET_BYTES.has(alg)) {
      if (!hmac) problems.push(`algorithm ${alg} needs hsSecret as the key source (HMAC is only for an explicitly shared secret)`);
      else if (source.secret.byteLength < (HMAC_MIN_SECRET_BYTES.get(alg) ?? 0)) {
        problems.push(`hsSecret must be at least ${HMAC_MIN_SECRET_BYTES.get(alg)} bytes for ${alg}, got ${source.secret.byteLength}`);
      }
    } else if (ASYMMETRIC_ALGORITHMS.has(alg)) {
      if (hmac) problems.push(`algorithm ${alg} needs a public key source (jwksUrl or keyFile), not hsSecret`);
    } else {
      problems.push(`algorithm ${alg} is not supported; allowed: ${[...ASYMMETRIC_ALGORITHMS, ...HMAC_MIN_SECRET_BYTES.keys()].join(', ')}`);
    }
  }
  return Object.freeze(list);
}

/**
 * Applies defaults and validates.
 *
 * @throws TokenVerifierConfigError listing every problem found
 */
export function resolveTokenVerifierOptions(options: TokenVerifierOptions): ResolvedTokenVerifierOptions {
  const problems: string[] = [];
  const source = keySource(problems, options);
  const resolved = {
    keySource: source,
    algorithms: algorithms(problems, options.algorithms, source),
    issuer: stringList(problems, 'issuer', options.issuer),
    audience: stringList(problems, 'audience', options.audience),
    clockToleranceS: number(problems, 'clockToleranceS', options.clockToleranceS, DEFAULT_CLOCK_TOLERANCE_S, { min: 0 }),
    maxTokenBytes: number(problems, 'maxTokenBytes', options.maxTokenBytes, DEFAULT_MAX_TOKEN_BYTES, { integer: true, min: 256 }),
    jwksTimeoutMs: number(problems, 'jwksTimeoutMs', options.jwksTimeoutMs, DEFAULT_JWKS_TIMEOUT_MS, { integer: true, min: 1 }),
    jwksCooldownMs: number(problems, 'jwksCooldownMs', options.jwksCooldownMs, DEFAULT_JWKS_COOLDOWN_MS, { min: 0 }),
    jwksCacheMaxAgeMs: number(problems, 'jwksCacheMaxAgeMs', options.jwksCacheMaxAgeMs, DEFAULT_JWKS_CACHE_MAX_AGE_MS, { min: 0, allowInfinity: true }),
    jwksMaxStaleMs: number(problems, 'jwksMaxStaleMs', options.jwksMaxStaleMs, DEFAULT_JWKS_MAX_STALE_MS, { min: 0, allowInfinity: true }),
    tierClaim: options.tierClaim ?? DEFAULT_TIER_CLAIM,
    verifyCacheTtlMs: number(problems, 'verifyCacheTtlMs', options.verifyCacheTtlMs, DEFAULT_VERIFY_CACHE_TTL_MS, { integer: true, min: 0 }),
    verifyCacheMaxEntries: number(problems, 'verifyCacheMaxEntries', options.verifyCacheMaxEntries, DEFAULT_VERIFY_CACHE_MAX_ENTRIES, { integer: true, min: 1 }),
    refuseDevKeys: options.refuseDevKeys === true,
  };
  if (typeof resolved.tierClaim !== 'string' || resolved.tierClaim === '') problems.push('tierClaim must be a non-empty claim name');
  if (problems.length > 0 || resolved.keySource === undefined) throw new TokenVerifierConfigError(problems);
  return Object.freeze(extend(resolved, { keySource: resolved.keySource }));
}
