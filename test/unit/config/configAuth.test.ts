/** Authentication, identity forwarding and CORS settings: defaults, and problems named by variable. */
import { createPublicKey } from 'node:crypto';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, verifierProblemAsConfig } from '../../../src/config/index.ts';
import { DEFAULT_DEV_CORS_ORIGINS } from '../../../src/cors/origins.ts';
import { DEV_ISSUER, DEV_JWKS_FILE, devPublicJwks } from '../../../subgraphs-mock/idp.ts';

/** The problems of a configuration that must be refused. */
function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error(`accepted: ${JSON.stringify(env)}`);
}

const JWKS = 'https://idp.example.com/.well-known/jwks.json';
const SECRET = 's'.repeat(32);

describe('authentication configuration', () => {
  it('is off without a key source; optional mode, default identity headers, no introspection scope', () => {
    const c = loadConfig({});
    expect(c.auth).toEqual({
      verifier: undefined,
      mode: 'optional',
      tierClaim: 'tier',
      identityHeaders: { subject: 'x-portico-subject', scopes: 'x-portico-scopes', tier: 'x-portico-tier' },
      introspectionScope: undefined,
    });
    expect(Object.isFrozen(c.auth.identityHeaders)).toBe(true);
  });

  it('turns the variables into verifier options', () => {
    const c = loadConfig({
      PORTICO_JWKS_URL: JWKS,
      PORTICO_JWT_ISSUER: 'https://idp.example.com/',
      PORTICO_JWT_AUDIENCE: 'portico,portico-mobile',
      PORTICO_JWT_ALGORITHMS: 'RS256',
      PORTICO_JWT_CLOCK_TOLERANCE_S: '5',
      PORTICO_JWT_TIER_CLAIM: 'plan',
      PORTICO_AUTH_MODE: 'required',
      PORTICO_IDENTITY_HEADERS: 'X-User, x-user-scopes, x-user-plan',
      PORTICO_INTROSPECTION_SCOPE: 'graph:introspect',
    });
    expect(c.auth.verifier).toMatchObject({
      jwksUrl: JWKS,
      issuer: ['https://idp.example.com/'],
      audience: ['portico', 'portico-mobile'],
      algorithms: ['RS256'],
      clockToleranceS: 5,
      maxTokenBytes: 8192,
      tierClaim: 'plan',
    });
    expect(c.auth.mode).toBe('required');
    expect(c.auth.tierClaim).toBe('plan');
    expect(c.auth.identityHeaders).toEqual({ subject: 'x-user', scopes: 'x-user-scopes', tier: 'x-user-plan' });
    expect(c.auth.introspectionScope).toBe('graph:introspect');
  });

  it('names the variable behind every token verifier problem', () => {
    expect(problemsOf({ PORTICO_JWKS_URL: 'http://idp.example.com/jwks' })).toEqual([expect.stringMatching(/^PORTICO_JWKS_URL: .*https/)]);
    expect(problemsOf({ PORTICO_JWKS_URL: JWKS, PORTICO_JWT_HS_SECRET: SECRET })).toEqual([
      expect.stringMatching(/^PORTICO_JWKS_URL: exactly one key source is allowed, got PORTICO_JWKS_URL \+ PORTICO_JWT_HS_SECRET$/),
    ]);
    expect(problemsOf({ PORTICO_JWT_HS_SECRET: 'short' })).toEqual([expect.stringMatching(/^PORTICO_JWT_HS_SECRET: .*at least 32 bytes/)]);
    const algs = problemsOf({ PORTICO_JWKS_URL: JWKS, PORTICO_JWT_ALGORITHMS: 'none,HS256' });
    expect(algs).toHaveLength(2);
    for (const p of algs) expect(p).toMatch(/^PORTICO_JWT_ALGORITHMS: /);
    expect(algs.join('\n')).toMatch(/needs PORTICO_JWT_HS_SECRET as the key source/);
    expect(problemsOf({ PORTICO_JWKS_FILE: '/nonexistent/jwks.json' })).toEqual([expect.stringMatching(/^PORTICO_JWKS_FILE: .*cannot be read: ENOENT/)]);
    const dir = mkdtempSync(join(tmpdir(), 'portico-config-'));
    writeFileSync(join(dir, 'bad.json'), 'not a key');
    expect(problemsOf({ PORTICO_JWKS_FILE: join(dir, 'bad.json') })).toEqual([expect.stringMatching(/^PORTICO_JWKS_FILE: .*neither a PEM key nor a JWKS/)]);
  });

  it('maps every verifier option the environment can set', () => {
    const options = ['jwksUrl', 'keyFile', 'hsSecret', 'algorithms', 'issuer', 'audience', 'clockToleranceS', 'maxTokenBytes', 'jwksTimeoutMs', 'jwksCooldownMs', 'jwksCacheMaxAgeMs', 'jwksMaxStaleMs', 'tierClaim', 'verifyCacheTtlMs'];
    for (const option of options) expect(verifierProblemAsConfig(`${option} must be something`), option).toMatch(/^PORTICO_[A-Z_]+: /);
  });

  it('refuses settings that cannot work without a key source, and a token limit above the header limit', () => {
    const problems = problemsOf({ PORTICO_AUTH_MODE: 'required', PORTICO_INTROSPECTION_SCOPE: 'graph:introspect', PORTICO_JWT_ISSUER: 'x' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['PORTICO_AUTH_MODE', 'PORTICO_INTROSPECTION_SCOPE', 'PORTICO_JWT_ISSUER']);
    expect(problemsOf({ PORTICO_JWKS_URL: JWKS, PORTICO_JWT_MAX_BYTES: '16384' })).toEqual([expect.stringMatching(/^PORTICO_JWT_MAX_BYTES: must be below PORTICO_MAX_HEADER_BYTES/)]);
    expect(problemsOf({ PORTICO_AUTH_MODE: 'sometimes' })).toEqual([expect.stringMatching(/^PORTICO_AUTH_MODE: expected one of optional, required/)]);
  });

  it('checks identity header names', () => {
    expect(problemsOf({ PORTICO_IDENTITY_HEADERS: 'x-a,x-b' })).toEqual([expect.stringMatching(/^PORTICO_IDENTITY_HEADERS: expected three/)]);
    expect(problemsOf({ PORTICO_IDENTITY_HEADERS: 'authorization,x-b,x-c' })).toEqual([expect.stringMatching(/^PORTICO_IDENTITY_HEADERS: reserved/)]);
    expect(problemsOf({ PORTICO_IDENTITY_HEADERS: 'x-a,x-a,x-c' })).toEqual([expect.stringMatching(/^PORTICO_IDENTITY_HEADERS: .*must differ/)]);
  });
});

describe('development keys in production', () => {
  const fix = /refused in production \(PORTICO_ALLOW_DEV_KEYS=true overrides\)/;

  it('are refused by issuer and by key file, even a renamed copy or the key under another kid, unless explicitly allowed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-devkeys-'));
    const copy = join(dir, 'keys.json');
    copyFileSync(DEV_JWKS_FILE, copy);
    // The committed key under an innocent-looking kid: recognised by the key itself.
    const renamed = join(dir, 'prod-keys.json');
    writeFileSync(renamed, JSON.stringify({ keys: devPublicJwks().keys.map((k) => ({ ...k, kid: 'prod-signing-2024' })) }));
    // And as a PEM public key.
    const pem = join(dir, 'idp.pem');
    writeFileSync(pem, createPublicKey({ key: { ...devPublicJwks().keys[0] }, format: 'jwk' }).export({ format: 'pem', type: 'spki' }));
    const cases: Record<string, string>[] = [
      { PORTICO_JWKS_URL: JWKS, PORTICO_JWT_ISSUER: DEV_ISSUER },
      { PORTICO_JWKS_FILE: DEV_JWKS_FILE },
      { PORTICO_JWKS_FILE: copy },
      { PORTICO_JWKS_FILE: renamed },
      { PORTICO_JWKS_FILE: pem },
    ];
    for (const env of cases) {
      const problems = problemsOf({ NODE_ENV: 'production', ...env });
      expect(problems, JSON.stringify(env)).toHaveLength(1);
      expect(problems[0]).toMatch(fix);
      expect(problems[0]).toMatch(env.PORTICO_JWKS_FILE ? /^PORTICO_JWKS_FILE: / : /^PORTICO_JWT_ISSUER: /);
      expect(loadConfig({ NODE_ENV: 'production', PORTICO_ALLOW_DEV_KEYS: 'true', ...env }).auth.verifier?.refuseDevKeys).toBe(false);
      expect(loadConfig({ NODE_ENV: 'development', ...env }).auth.verifier?.refuseDevKeys).toBe(false);
    }
  });

  it('a JWKS URL is not judged by its address: production verifiers refuse development keys and tokens wherever they come from', () => {
    // Port 4005 on loopback used to be refused here and any other port trusted; what the URL
    // serves is checked when the gateway starts, and every token is checked (test/integration/devKeys.test.ts).
    for (const url of ['http://127.0.0.1:4005/.well-known/jwks.json', 'http://127.0.0.1:4999/.well-known/jwks.json', JWKS]) {
      expect(loadConfig({ NODE_ENV: 'production', PORTICO_JWKS_URL: url }).auth.verifier?.refuseDevKeys).toBe(true);
    }
    expect(loadConfig({ NODE_ENV: 'production', PORTICO_JWT_HS_SECRET: SECRET }).auth.verifier?.refuseDevKeys).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test', PORTICO_JWKS_URL: JWKS }).auth.verifier?.refuseDevKeys).toBe(false);
  });
});

describe('CORS configuration', () => {
  it('defaults to localhost and Apollo Studio outside production, nothing in production; none means none', () => {
    expect(loadConfig({}).server.corsOrigins).toEqual(DEFAULT_DEV_CORS_ORIGINS);
    expect(loadConfig({ NODE_ENV: 'production' }).server.corsOrigins).toEqual([]);
    expect(loadConfig({ PORTICO_CORS_ORIGINS: 'none' }).server.corsOrigins).toEqual([]);
    expect(loadConfig({}).server.corsCredentials).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', PORTICO_CORS_ORIGINS: 'https://app.example.com, http://localhost:*' }).server.corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:*',
    ]);
  });

  it('refuses entries that are not origins, and * with credentials', () => {
    const bad = problemsOf({ PORTICO_CORS_ORIGINS: 'https://app.example.com/path,ftp://x.example,App.example.com' });
    expect(bad).toHaveLength(3);
    for (const p of bad) expect(p).toMatch(/^PORTICO_CORS_ORIGINS: /);
    expect(problemsOf({ PORTICO_CORS_ORIGINS: '*', PORTICO_CORS_CREDENTIALS: 'true' })).toEqual([expect.stringMatching(/^PORTICO_CORS_CREDENTIALS: /)]);
  });
});
