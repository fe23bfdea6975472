import {
  createFileKeySource,
  DEV_ISSUER,
  DEV_KEYS_REFUSED,
  LOOPBACK_HOSTS,
  resolveTokenVerifierOptions,
  TokenVerifierConfigError,
  type TokenVerifierOptions,
} from '../auth/index.ts';
import { readFileSync } from 'node:fs';
import { publicKeyFromPem } from '../controlPlane/signature.ts';
import { checkHttpUrl } from './env.ts';
import type { Env } from './schema.ts';

/**
 * Rules that involve several variables, checked once each value is valid on its own: token
 * verification (the verifier's own validation, restated in config terms), development keys in
 * production, trusted documents, CORS. Every problem names the variable to fix.
 */

/** Every cross-variable problem; `verifier` is what `load.ts` derived from `e` (undefined: auth off). */
export function crossProblems(e: Env, verifier: TokenVerifierOptions | undefined): string[] {
  return [...authProblems(e, verifier), ...corsProblems(e), ...trustedDocumentsProblems(e, verifier), ...controlPlaneProblems(e)];
}

/** Token verifier option name → the variable that sets it, for naming problems in config terms. */
const VERIFIER_OPTION_ENV: Readonly<Record<string, string>> = {
  jwksUrl: 'PORTICO_JWKS_URL',
  keyFile: 'PORTICO_JWKS_FILE',
  hsSecret: 'PORTICO_JWT_HS_SECRET',
  algorithm: 'PORTICO_JWT_ALGORITHMS',
  algorithms: 'PORTICO_JWT_ALGORITHMS',
  issuer: 'PORTICO_JWT_ISSUER',
  audience: 'PORTICO_JWT_AUDIENCE',
  clockToleranceS: 'PORTICO_JWT_CLOCK_TOLERANCE_S',
  maxTokenBytes: 'PORTICO_JWT_MAX_BYTES',
  jwksTimeoutMs: 'PORTICO_JWKS_TIMEOUT_MS',
  jwksCooldownMs: 'PORTICO_JWKS_COOLDOWN_MS',
  jwksCacheMaxAgeMs: 'PORTICO_JWKS_CACHE_MAX_AGE_MS',
  jwksMaxStaleMs: 'PORTICO_JWKS_MAX_STALE_MS',
  tierClaim: 'PORTICO_JWT_TIER_CLAIM',
  verifyCacheTtlMs: 'PORTICO_JWT_VERIFY_CACHE_TTL_MS',
};
/** Option names a problem text mentions: camelCase ones anywhere, plain words only when leading. */
const OPTION_NAME_IN_TEXT = /\b(jwksUrl|keyFile|hsSecret|clockToleranceS|maxTokenBytes|jwksTimeoutMs|jwksCooldownMs|jwksCacheMaxAgeMs|jwksMaxStaleMs|tierClaim|verifyCacheTtlMs)\b/g;

/**
 * Restates a token verifier problem in config terms. The verifier's problems start with the option
 * they concern (its documented format, pinned by test/unit/config/configAuth.test.ts); that option's
 * variable becomes the prefix and option names in the text become variable names.
 */
export function verifierProblemAsConfig(problem: string): string {
  const leading = /^(\w+)/.exec(problem)?.[1] ?? '';
  const mentioned = [...problem.matchAll(OPTION_NAME_IN_TEXT)].map((m) => m[1] ?? '');
  const name = VERIFIER_OPTION_ENV[leading] ?? VERIFIER_OPTION_ENV[mentioned[0] ?? ''] ?? 'PORTICO_JWKS_URL/PORTICO_JWKS_FILE/PORTICO_JWT_HS_SECRET';
  return `${name}: ${problem.replace(OPTION_NAME_IN_TEXT, (option) => VERIFIER_OPTION_ENV[option] ?? option)}`;
}

/** Authentication problems that involve several variables; each names the variable to fix. */
function authProblems(e: Env, verifier: TokenVerifierOptions | undefined): string[] {
  const problems: string[] = [];
  if (verifier === undefined) {
    const noKeys = 'needs a key source: set PORTICO_JWKS_URL, PORTICO_JWKS_FILE or PORTICO_JWT_HS_SECRET';
    if (e.PORTICO_AUTH_MODE === 'required') problems.push(`PORTICO_AUTH_MODE: required ${noKeys}`);
    if (e.PORTICO_INTROSPECTION_SCOPE !== undefined) problems.push(`PORTICO_INTROSPECTION_SCOPE: a scope can only come from a verified token; ${noKeys}`);
    if (e.PORTICO_JWT_ISSUER.length > 0) problems.push(`PORTICO_JWT_ISSUER: is set but no token is verified; ${noKeys}`);
    if (e.PORTICO_JWT_AUDIENCE.length > 0) problems.push(`PORTICO_JWT_AUDIENCE: is set but no token is verified; ${noKeys}`);
    return problems;
  }
  try {
    const resolved = resolveTokenVerifierOptions(verifier);
    // A key file is read and parsed here too (it is small, and read once more by the verifier), so
    // a missing or unusable file stops the process with the other problems, named.
    // With refuseDevKeys, a file holding a development key is refused here, found by kid or by
    // the key itself wherever the file was copied to.
    if (resolved.keySource.kind === 'file') createFileKeySource(resolved.keySource.path, resolved.algorithms, { refuseDevKeys: resolved.refuseDevKeys }).close();
  } catch (err) {
    if (!(err instanceof TokenVerifierConfigError)) throw err;
    problems.push(...err.problems.map(verifierProblemAsConfig));
  }
  // A token larger than the header limit can never arrive; the smaller limit would be a lie.
  if (e.PORTICO_JWT_MAX_BYTES >= e.PORTICO_MAX_HEADER_BYTES) {
    problems.push(`PORTICO_JWT_MAX_BYTES: must be below PORTICO_MAX_HEADER_BYTES (${e.PORTICO_MAX_HEADER_BYTES}), got ${e.PORTICO_JWT_MAX_BYTES}`);
  }
  // The issuer is known without fetching anything; keys served at a URL are checked when the
  // gateway starts (TokenVerifier.assertNoDevKeys), and every token is checked too.
  if (verifier.refuseDevKeys === true && e.PORTICO_JWT_ISSUER.includes(DEV_ISSUER)) {
    problems.push(`PORTICO_JWT_ISSUER: ${DEV_ISSUER} is the development IdP's issuer: ${DEV_KEYS_REFUSED}`);
  }
  return problems;
}

/** Trusted documents: a mode needs one source, a source needs a mode, a scope needs tokens. */
function trustedDocumentsProblems(e: Env, verifier: TokenVerifierOptions | undefined): string[] {
  const problems: string[] = [];
  const mode = e.PORTICO_TRUSTED_DOCUMENTS_MODE;
  const file = e.PORTICO_TRUSTED_DOCUMENTS_FILE;
  const url = e.PORTICO_TRUSTED_DOCUMENTS_URL;
  if (mode === 'off') {
    // A list that is loaded but never checked would be a silent no-op.
    for (const [name, value] of [['PORTICO_TRUSTED_DOCUMENTS_FILE', file], ['PORTICO_TRUSTED_DOCUMENTS_URL', url], ['PORTICO_TRUSTED_DOCUMENTS_BYPASS_SCOPE', e.PORTICO_TRUSTED_DOCUMENTS_BYPASS_SCOPE]] as const) {
      if (value !== undefined) problems.push(`${name}: has no effect while PORTICO_TRUSTED_DOCUMENTS_MODE=off; set the mode to log or enforce`);
    }
    return problems;
  }
  if ((file === undefined) === (url === undefined)) {
    problems.push(`PORTICO_TRUSTED_DOCUMENTS_MODE: ${mode} needs exactly one of PORTICO_TRUSTED_DOCUMENTS_FILE and PORTICO_TRUSTED_DOCUMENTS_URL${file !== undefined ? ', got both' : ''}`);
  }
  if (url !== undefined) {
    const parsed = new URL(url);
    // A list fetched over plain HTTP could be swapped on the way: it decides what runs.
    if (parsed.protocol !== 'https:' && !LOOPBACK_HOSTS.test(parsed.hostname)) {
      problems.push('PORTICO_TRUSTED_DOCUMENTS_URL: must use https (http is allowed only for localhost / 127.0.0.1 / [::1])');
    }
  }
  if (e.PORTICO_TRUSTED_DOCUMENTS_BYPASS_SCOPE !== undefined && verifier === undefined) {
    problems.push('PORTICO_TRUSTED_DOCUMENTS_BYPASS_SCOPE: a scope can only come from a verified token; needs a key source: set PORTICO_JWKS_URL, PORTICO_JWKS_FILE or PORTICO_JWT_HS_SECRET');
  }
  return problems;
}

/** CORS problems involving two variables. */
function corsProblems(e: Env): string[] {
  if (e.PORTICO_CORS_CREDENTIALS && e.PORTICO_CORS_ORIGINS?.includes('*')) {
    return ['PORTICO_CORS_CREDENTIALS: true cannot be combined with PORTICO_CORS_ORIGINS=* (browsers refuse it, and it would let any site act with the user\'s cookies); list the origins'];
  }
  return [];
}

/** Control plane: URLs are http(s) (http only on loopback), a push needs Redis, a key file is readable. */
function controlPlaneProblems(e: Env): string[] {
  const problems: string[] = [];
  for (const raw of e.PORTICO_SUPERGRAPH_URLS) {
    const problem = checkHttpUrl(raw);
    if (problem) problems.push(`PORTICO_SUPERGRAPH_URLS: ${problem}`);
  }
  if (e.PORTICO_SUPERGRAPH_PUSH && e.PORTICO_REDIS_URL === undefined) {
    problems.push('PORTICO_SUPERGRAPH_PUSH: a push comes through Redis; set PORTICO_REDIS_URL or turn the push off');
  }
  if (e.PORTICO_SUPERGRAPH_PUBLIC_KEY_FILE !== undefined) {
    try {
      publicKeyFromPem(readFileSync(e.PORTICO_SUPERGRAPH_PUBLIC_KEY_FILE, 'utf8'));
    } catch (err) {
      problems.push(`PORTICO_SUPERGRAPH_PUBLIC_KEY_FILE: expected a readable PEM public key (SPKI): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (e.PORTICO_SUPERGRAPH_URLS.length === 0) problems.push('PORTICO_SUPERGRAPH_PUBLIC_KEY_FILE: signatures are checked on fetched files; set PORTICO_SUPERGRAPH_URLS');
  }
  return problems;
}
