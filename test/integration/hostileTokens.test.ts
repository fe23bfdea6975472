/**
 * Hostile tokens against a verifier backed by a real JWKS server. Each row names the AuthError
 * reason it must produce; every refusal must also be client-safe (no config, no jose internals).
 */
import { CompactSign, exportSPKI, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, wwwAuthenticate } from '../../src/auth/errors.ts';
import type { AuthErrorReason } from '../../src/auth/errors.ts';
import { createTokenVerifier } from '../../src/auth/jwt.ts';
import type { TokenVerifier } from '../../src/auth/types.ts';
import { AUDIENCE, b64url, bearer, claims, ISSUER, jwksOf, makeKey, nowS, sign, silentLogger, startCountingServer, startJwksServer } from '../helpers/auth.ts';
import type { JwksServer, TestKey, TestServer } from '../helpers/auth.ts';

interface Ctx {
  rsa: TestKey;
  ec: TestKey;
  attacker: TestKey;
  attackerEc: TestKey;
  rs384: TestKey;
  jkuTarget: TestServer;
}

interface Row {
  name: string;
  header: (ctx: Ctx) => Promise<string> | string;
  reason: AuthErrorReason;
  claim?: string;
}

const rows: Row[] = [
  {
    name: 'alg none (unsigned)',
    header: () => bearer(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims())}.`),
    reason: 'alg_not_allowed',
  },
  {
    name: 'alg NONE with a signature segment',
    header: () => bearer(`${b64url({ alg: 'NONE' })}.${b64url(claims())}.c2ln`),
    reason: 'alg_not_allowed',
  },
  {
    name: 'HS256 signed with the RSA public key as the secret (key confusion)',
    header: async ({ rsa }) => {
      const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
      return bearer(await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: rsa.kid }).sign(pem));
    },
    reason: 'alg_not_allowed',
  },
  {
    name: 'RS384, a real algorithm outside the allowlist',
    header: async ({ rs384 }) => bearer(await sign(rs384)),
    reason: 'alg_not_allowed',
  },
  { name: 'unknown kid', header: async ({ rsa }) => bearer(await sign(rsa, claims(), { kid: 'no-such-key' })), reason: 'unknown_key' },
  {
    name: 'ES256 header naming the RSA key id (alg/key confusion)',
    header: async ({ attackerEc, rsa }) => bearer(await sign(attackerEc, claims(), { kid: rsa.kid })),
    reason: 'unknown_key',
  },
  {
    name: 'signed by another key that claims our kid',
    header: async ({ attacker, rsa }) => bearer(await sign(attacker, claims(), { kid: rsa.kid })),
    reason: 'bad_signature',
  },
  {
    name: 'payload swapped after signing',
    header: async ({ rsa }) => {
      const [h, , s] = (await sign(rsa)).split('.');
      return bearer(`${h}.${b64url(claims({ sub: 'mallory' }))}.${s}`);
    },
    reason: 'bad_signature',
  },
  { name: 'expired', header: async ({ ec }) => bearer(await sign(ec, claims({ iat: nowS() - 7200, exp: nowS() - 120 }))), reason: 'expired' },
  { name: 'nbf in the future', header: async ({ ec }) => bearer(await sign(ec, claims({ nbf: nowS() + 600 }))), reason: 'not_yet_valid' },
  { name: 'wrong iss', header: async ({ ec }) => bearer(await sign(ec, claims({ iss: 'https://evil.test' }))), reason: 'claim_invalid', claim: 'iss' },
  { name: 'wrong aud', header: async ({ ec }) => bearer(await sign(ec, claims({ aud: 'billing' }))), reason: 'claim_invalid', claim: 'aud' },
  { name: 'missing exp', header: async ({ ec }) => bearer(await sign(ec, claims({ exp: undefined }))), reason: 'missing_claim', claim: 'exp' },
  { name: 'missing sub', header: async ({ ec }) => bearer(await sign(ec, claims({ sub: undefined }))), reason: 'missing_claim', claim: 'sub' },
  { name: 'missing iss', header: async ({ ec }) => bearer(await sign(ec, claims({ iss: undefined }))), reason: 'missing_claim', claim: 'iss' },
  { name: 'exp as a string', header: async ({ ec }) => bearer(await sign(ec, claims({ exp: 'tomorrow' }))), reason: 'claim_invalid', claim: 'exp' },
  { name: 'empty sub', header: async ({ ec }) => bearer(await sign(ec, claims({ sub: '' }))), reason: 'claim_invalid', claim: 'sub' },
  { name: 'sub not a string', header: async ({ ec }) => bearer(await sign(ec, claims({ sub: 42 }))), reason: 'claim_invalid', claim: 'sub' },
  {
    name: 'scopes array with a non-string',
    header: async ({ ec }) => bearer(await sign(ec, claims({ scope: undefined, scopes: ['read', 7] }))),
    reason: 'claim_invalid',
    claim: 'scopes',
  },
  { name: 'tier not a string', header: async ({ ec }) => bearer(await sign(ec, claims({ tier: 3 }))), reason: 'claim_invalid', claim: 'tier' },
  {
    name: 'claims set is a JSON array',
    header: async ({ ec }) =>
      bearer(await new CompactSign(new TextEncoder().encode('[1,2]')).setProtectedHeader({ alg: 'ES256', kid: ec.kid }).sign(ec.privateKey)),
    reason: 'malformed',
  },
  {
    name: 'unknown critical header extension',
    header: async ({ ec }) =>
      bearer(
        await new SignJWT(claims())
          .setProtectedHeader({ alg: 'ES256', kid: ec.kid, crit: ['x-portico-test'], 'x-portico-test': true })
          .sign(ec.privateKey, { crit: { 'x-portico-test': true } }),
      ),
    reason: 'malformed',
  },
  { name: 'garbage', header: () => bearer('not-a-jwt'), reason: 'malformed' },
  { name: 'three garbage segments', header: () => bearer('aaa.bbb.ccc'), reason: 'malformed' },
  { name: 'characters outside token68', header: () => bearer(`${b64url({ alg: 'ES256' })}.%00.x`), reason: 'malformed' },
  { name: 'JWE-shaped (5 segments)', header: () => bearer('a.b.c.d.e'), reason: 'malformed' },
  { name: 'header without alg', header: () => bearer(`${b64url({ typ: 'JWT' })}.${b64url(claims())}.c2ln`), reason: 'malformed' },
  { name: '20 KB token', header: async ({ ec }) => bearer(await sign(ec, claims({ pad: 'x'.repeat(20 * 1024) }))), reason: 'too_large' },
  { name: '20 KB of spaces after Bearer', header: () => `Bearer ${' '.repeat(20 * 1024)}x`, reason: 'too_large' },
  { name: 'missing Bearer (raw token)', header: async ({ ec }) => sign(ec), reason: 'malformed' },
  { name: 'Basic credentials', header: () => 'Basic YWxpY2U6c2VjcmV0', reason: 'malformed' },
  { name: 'Bearer without a token', header: () => 'Bearer', reason: 'malformed' },
  { name: 'empty header', header: () => '', reason: 'malformed' },
  { name: 'two tokens', header: async ({ ec }) => `Bearer ${await sign(ec)} ${await sign(ec)}`, reason: 'malformed' },
  {
    name: 'jku pointing at another host (attacker-signed)',
    header: async ({ attacker, jkuTarget }) => bearer(await sign(attacker, claims(), { jku: `${jkuTarget.url}/jwks.json` })),
    reason: 'header_not_allowed',
  },
  {
    name: 'jku on a token signed with a genuine key',
    header: async ({ rsa, jkuTarget }) => bearer(await sign(rsa, claims(), { jku: `${jkuTarget.url}/jwks.json` })),
    reason: 'header_not_allowed',
  },
  {
    name: 'x5u pointing at another host',
    header: async ({ attacker, jkuTarget }) => bearer(await sign(attacker, claims(), { x5u: `${jkuTarget.url}/cert.pem` })),
    reason: 'header_not_allowed',
  },
  {
    name: 'embedded jwk (self-signed, CVE-2018-0114 style)',
    header: async ({ attacker }) => bearer(await sign(attacker, claims(), { jwk: attacker.publicJwk, kid: undefined })),
    reason: 'header_not_allowed',
  },
  {
    name: 'embedded x5c chain',
    header: async ({ attacker }) => bearer(await sign(attacker, claims(), { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] })),
    reason: 'header_not_allowed',
  },
];

describe('hostile tokens', () => {
  const ctx = {} as Ctx;
  let jwksServer: JwksServer;
  let verifier: TokenVerifier;

  beforeAll(async () => {
    ctx.rsa = await makeKey('RS256', 'rsa-1');
    ctx.ec = await makeKey('ES256', 'ec-1');
    ctx.attacker = await makeKey('RS256', 'attacker-1');
    ctx.attackerEc = await makeKey('ES256', 'attacker-ec');
    ctx.rs384 = await makeKey('RS384', 'rsa-384');
    // The attacker's key set, served where jku points: a verifier that followed jku would accept.
    ctx.jkuTarget = await startCountingServer(JSON.stringify(jwksOf(ctx.attacker)));
    // rs384 is published, so its refusal can only come from the allowlist.
    jwksServer = await startJwksServer(jwksOf(ctx.rsa, ctx.ec, ctx.rs384));
    verifier = createTokenVerifier(
      { jwksUrl: jwksServer.jwksUrl, issuer: ISSUER, audience: AUDIENCE, jwksCooldownMs: 60_000 },
      { logger: silentLogger() },
    );
    // Warm the key cache so every row below runs against known keys.
    await expect(verifier.verify(bearer(await sign(ctx.rsa)))).resolves.toMatchObject({ kind: 'user' });
  });

  afterAll(async () => {
    verifier.close();
    await Promise.all([jwksServer.stop(), ctx.jkuTarget.stop()]);
  });

  it.each(rows)('$name → $reason', async (row) => {
    const header = await row.header(ctx);
    const err: unknown = await verifier.verify(header).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthError);
    const authError = err as AuthError;
    expect(authError.reason).toBe(row.reason);
    if (row.claim !== undefined) expect(authError.claim).toBe(row.claim);
    // Client-safe: no expected values, no URLs, no jose codes or messages.
    expect(authError.message).not.toMatch(/idp\.test|127\.0\.0\.1|ERR_|JWS|JWKS|claim timestamp/);
    expect(wwwAuthenticate(authError)).toMatch(/^Bearer error="invalid_token", error_description="[^"\\]+"$/);
  });

  it('never contacted the jku/x5u host', () => {
    expect(ctx.jkuTarget.requests()).toBe(0);
  });

  it('cost the IdP no JWKS fetch beyond the warm-up (unknown kids are inside the cooldown)', () => {
    expect(jwksServer.requests()).toBe(1);
  });
});
