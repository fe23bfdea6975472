/** The development IdP and `npm run token`: what they mint verifies against what they serve. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../src/auth/jwt.ts';
import type { TokenVerifier } from '../../src/auth/types.ts';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_JWKS_FILE, DEV_KEYS_DIR, devPublicJwks, signDevToken, startDevIdp } from '../../subgraphs-mock/idp.ts';
import type { DevIdp } from '../../subgraphs-mock/idp.ts';
import { silentLogger } from '../helpers/auth.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

/** Runs the token script as a user would, bounded in time. */
async function tokenScript(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'scripts/token.ts', ...args], { cwd: ROOT, timeout: 30_000 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe('dev IdP', () => {
  let idp: DevIdp;
  let verifier: TokenVerifier;

  beforeAll(async () => {
    idp = await startDevIdp({ port: 0 });
    verifier = createTokenVerifier({ jwksUrl: idp.jwksUrl, issuer: DEV_ISSUER, audience: DEV_AUDIENCE }, { logger: silentLogger() });
  });

  afterAll(async () => {
    verifier.close();
    await idp.stop();
    await idp.stop();
  });

  it('serves only the public half of the committed dev key', async () => {
    const response = await fetch(idp.jwksUrl);
    expect(response.status).toBe(200);
    const jwks = (await response.json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks).toEqual(devPublicJwks());
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    // The committed public JWKS matches the committed private key.
    const priv = JSON.parse(readFileSync(resolve(DEV_KEYS_DIR, 'dev-private.jwk.json'), 'utf8')) as Record<string, unknown>;
    expect(jwks.keys[0]).toMatchObject({ kid: priv.kid, x: priv.x, y: priv.y, crv: priv.crv, alg: 'ES256', use: 'sig' });
    expect(String(priv.kid)).toMatch(/dev-only/);
  });

  it('answers 404 elsewhere and 405 to writes', async () => {
    expect((await fetch(`${idp.url}/token`)).status).toBe(404);
    expect((await fetch(idp.jwksUrl, { method: 'POST' })).status).toBe(405);
    const discovery = (await (await fetch(`${idp.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({ issuer: DEV_ISSUER, jwks_uri: idp.jwksUrl });
  });

  it('npm run token output verifies against the IdP JWKS', async () => {
    const { stdout, stderr, code } = await tokenScript([
      '--sub', 'alice',
      '--scopes', 'review:write,pricing:internal',
      '--scopes', 'catalog:read review:write',
      '--tier', 'premium',
      '--ttl', '600',
    ]);
    expect(code).toBe(0);
    // Only the token on stdout, so `$(npm run -s token …)` works.
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(stderr).toMatch(/DEV-ONLY/);
    const token = stdout.trim();
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: devPublicJwks().keys[0]?.kid });
    expect(await verifier.verify(`Bearer ${token}`)).toEqual({
      kind: 'user',
      subject: 'alice',
      scopes: ['review:write', 'pricing:internal', 'catalog:read'],
      tier: 'premium',
    });
  });

  it('the token script refuses a missing --sub and prints no token', async () => {
    const { stdout, stderr, code } = await tokenScript(['--scopes', 'a']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/--sub is required/);
  });

  it('dev tokens verify offline against the committed JWKS file', async () => {
    const offline = createTokenVerifier({ keyFile: DEV_JWKS_FILE, issuer: DEV_ISSUER, audience: DEV_AUDIENCE }, { logger: silentLogger() });
    try {
      const principal = await offline.verify(`Bearer ${await signDevToken({ sub: 'bob', ttlS: 60 })}`);
      expect(principal).toEqual({ kind: 'user', subject: 'bob', scopes: [], tier: undefined });
    } finally {
      offline.close();
    }
  });
});
