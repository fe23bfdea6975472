/**
 * Development keys and tokens are recognised by what they are (reserved issuer, reserved kid
 * prefix, the committed key's thumbprint), never by where they are served: the verifier with
 * `refuseDevKeys` against the dev IdP on a random port, a JWKS server serving the dev key under
 * another kid, and tokens that look like dev tokens but are signed by a trusted key.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { calculateJwkThumbprint, decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEV_ISSUER, DEV_KEY_ID_PREFIX, DEV_KEY_THUMBPRINTS, devKeysIn, isDevJwk, jwkThumbprint } from '../../src/auth/devKeys.ts';
import { AuthError } from '../../src/auth/errors.ts';
import { createTokenVerifier } from '../../src/auth/jwt.ts';
import type { TokenVerifier, TokenVerifierOptions } from '../../src/auth/types.ts';
import { TokenVerifierConfigError } from '../../src/auth/options.ts';
import * as mockIdp from '../../subgraphs-mock/idp.ts';
import { DEV_KEYS_DIR, devPublicJwks, signDevToken, startDevIdp, type DevIdp } from '../../subgraphs-mock/idp.ts';
import { bearer, capturingLogger, claims, jwksOf, makeKey, sign, silentLogger, startJwksServer, type JwksServer, type TestKey } from '../helpers/auth.ts';

async function refusal(p: Promise<unknown>): Promise<AuthError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof AuthError)) throw new Error(`expected an AuthError, got ${String(err)}`);
  return err;
}

describe('what a development key is', () => {
  it('the gateway and the dev IdP / npm run token agree on the reserved issuer, kid prefix and key', async () => {
    expect(DEV_ISSUER).toBe(mockIdp.DEV_ISSUER);
    expect(DEV_KEY_ID_PREFIX).toBe(mockIdp.DEV_KEY_ID_PREFIX);
    const committed = [...devPublicJwks().keys, JSON.parse(readFileSync(resolve(DEV_KEYS_DIR, 'dev-private.jwk.json'), 'utf8'))];
    for (const key of committed) {
      expect(String(key.kid).startsWith(DEV_KEY_ID_PREFIX)).toBe(true);
      expect(DEV_KEY_THUMBPRINTS.has(await calculateJwkThumbprint(key, 'sha256'))).toBe(true);
    }
  });

  it('every dev token carries the reserved issuer and kid, whatever it is asked for', async () => {
    const token = await signDevToken({ sub: 'alice', scopes: ['review:write'], tier: 'premium' });
    expect(decodeProtectedHeader(token).kid).toMatch(/^portico-dev-/);
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).toMatchObject({ iss: DEV_ISSUER });
  });

  it('thumbprints follow RFC 7638 (as jose computes them) for EC, RSA and OKP keys', async () => {
    for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
      const k = await makeKey(alg, 'k');
      expect(jwkThumbprint(k.publicJwk)).toBe(await calculateJwkThumbprint(k.publicJwk, 'sha256'));
    }
    expect(jwkThumbprint({ kty: 'oct', k: 'abc' })).toBeUndefined();
  });

  it('a dev key is known by kid prefix or by the key itself; other keys are not', async () => {
    const [dev] = devPublicJwks().keys;
    expect(isDevJwk(dev!)).toBe(true);
    expect(isDevJwk({ ...dev!, kid: 'prod-signing-1' })).toBe(true);
    const other = await makeKey('ES256', 'prod-1');
    expect(isDevJwk(other.publicJwk)).toBe(false);
    expect(isDevJwk({ ...other.publicJwk, kid: 'portico-dev-sneaky' })).toBe(true);
    expect(devKeysIn({ keys: [other.publicJwk, { ...dev!, kid: 'x' }] })).toEqual(['x']);
    expect(devKeysIn({ keys: 'nonsense' })).toEqual([]);
  });
});

describe('a verifier that refuses development keys', () => {
  let idp: DevIdp;
  let prod: TestKey;
  let jwks: JwksServer;
  const open: TokenVerifier[] = [];
  const verifier = (options: TokenVerifierOptions, logger = silentLogger()) => {
    const v = createTokenVerifier({ refuseDevKeys: true, jwksCooldownMs: 0, ...options }, { logger });
    open.push(v);
    return v;
  };

  beforeAll(async () => {
    // On a random port: nothing about the address says "development".
    idp = await startDevIdp({ port: 0 });
    prod = await makeKey('ES256', 'prod-1');
    jwks = await startJwksServer(jwksOf(prod));
  });
  afterEach(() => {
    for (const v of open.splice(0)) v.close();
    jwks.setJwks(jwksOf(prod));
  });
  afterAll(async () => {
    await idp?.stop();
    await jwks?.stop();
  });

  it('will not start on the dev IdP, on any port; a production JWKS passes', async () => {
    const err = await verifier({ jwksUrl: idp.jwksUrl }).assertNoDevKeys().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenVerifierConfigError);
    expect((err as TokenVerifierConfigError).problems).toEqual([expect.stringMatching(/^jwksUrl http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json serves development keys \(portico-dev-only-es256-1\): .*PORTICO_ALLOW_DEV_KEYS=true overrides/)]);
    await expect(verifier({ jwksUrl: jwks.jwksUrl }).assertNoDevKeys()).resolves.toBeUndefined();
    // Without refuseDevKeys there is nothing to check, and nothing is fetched.
    const before = jwks.requests();
    await createTokenVerifier({ jwksUrl: jwks.jwksUrl }, { logger: silentLogger() }).assertNoDevKeys();
    expect(jwks.requests()).toBe(before);
  });

  it('will not start on the dev key served under another kid', async () => {
    jwks.setJwks({ keys: [prod.publicJwk, ...devPublicJwks().keys.map((k) => ({ ...k, kid: 'prod-2' }))] });
    await expect(verifier({ jwksUrl: jwks.jwksUrl }).assertNoDevKeys()).rejects.toThrow(/serves development keys \(prod-2\)/);
  });

  it('starts when the JWKS cannot be fetched yet, and still refuses dev keys once it can', async () => {
    jwks.setMode('error');
    const { logger, lines } = capturingLogger();
    const v = verifier({ jwksUrl: jwks.jwksUrl }, logger);
    try {
      await expect(v.assertNoDevKeys()).resolves.toBeUndefined();
      expect(lines.some((l) => /could not be fetched at start-up/.test(String(l.msg)))).toBe(true);
      // The IdP comes back serving the dev key: the key set is refused, its tokens never verify.
      jwks.setJwks(devPublicJwks());
      jwks.setMode('ok');
      const devToken = await signDevToken({ sub: 'mallory' });
      expect((await refusal(v.verify(bearer(devToken)))).reason).toBe('dev_key');
      // Even a token the attacker minted with the committed key, without any dev marker.
      const { importJWK, SignJWT } = await import('jose');
      const priv = JSON.parse(readFileSync(resolve(DEV_KEYS_DIR, 'dev-private.jwk.json'), 'utf8'));
      const forged = await new SignJWT(claims({ sub: 'mallory', iss: 'https://idp.test' })).setProtectedHeader({ alg: 'ES256' }).sign(await importJWK(priv, 'ES256'));
      expect((await refusal(v.verify(bearer(forged)))).reason).toBe('jwks_unavailable');
      expect(lines.some((l) => /serves development keys/.test(String(l.msg)) && l.level === 50)).toBe(true);
    } finally {
      jwks.setMode('ok');
    }
  });

  it('refuses dev tokens before any key lookup, even signed by a trusted key', async () => {
    const v = verifier({ jwksUrl: jwks.jwksUrl });
    const before = jwks.requests();
    const devKid = await sign(prod, claims(), { kid: 'portico-dev-only-es256-1' });
    const devIss = await sign(prod, claims({ iss: DEV_ISSUER }));
    for (const token of [devKid, devIss, await signDevToken({ sub: 'alice' })]) {
      expect(() => v.precheck(bearer(token))).toThrow(AuthError);
      const err = await refusal(v.verify(bearer(token)));
      expect(err.reason).toBe('dev_key');
      expect(err.message).toMatch(/development identity provider/);
    }
    expect(jwks.requests()).toBe(before);
    // A production token is unaffected.
    expect(await v.verify(bearer(await sign(prod, claims())))).toMatchObject({ kind: 'user', subject: 'alice' });
  });

  it('without refuseDevKeys (development, PORTICO_ALLOW_DEV_KEYS) dev tokens verify as before', async () => {
    const v = createTokenVerifier({ jwksUrl: idp.jwksUrl, issuer: DEV_ISSUER }, { logger: silentLogger() });
    open.push(v);
    await v.assertNoDevKeys();
    expect(await v.verify(bearer(await signDevToken({ sub: 'bob' })))).toMatchObject({ kind: 'user', subject: 'bob' });
  });
});
