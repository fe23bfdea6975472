/** Accepted tokens, key sources, option validation and the verification cache. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../src/auth/errors.ts';
import { createTokenVerifier } from '../../src/auth/jwt.ts';
import type { TokenVerifier, TokenVerifierOptions } from '../../src/auth/types.ts';
import { TokenVerifierConfigError } from '../../src/auth/options.ts';
import { ANONYMOUS } from '../../src/auth/principal.ts';
import { AUDIENCE, bearer, claims, ISSUER, jwksOf, makeKey, nowS, sign, silentLogger, startJwksServer } from '../helpers/auth.ts';
import type { JwksServer, TestKey } from '../helpers/auth.ts';

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof AuthError)) throw new Error(`expected an AuthError, got ${String(err)}`);
  return err.reason;
}

let rsa: TestKey;
let ec: TestKey;
let ed: TestKey;
let server: JwksServer;
const open: TokenVerifier[] = [];

function verifierFor(options: Partial<TokenVerifierOptions> = {}): TokenVerifier {
  const v = createTokenVerifier({ jwksUrl: server.jwksUrl, issuer: ISSUER, audience: AUDIENCE, ...options }, { logger: silentLogger() });
  open.push(v);
  return v;
}

beforeAll(async () => {
  [rsa, ec, ed] = await Promise.all([makeKey('RS256', 'rsa-1'), makeKey('ES256', 'ec-1'), makeKey('EdDSA', 'ed-1')]);
  server = await startJwksServer(jwksOf(rsa, ec, ed));
});

afterEach(() => {
  vi.useRealTimers();
  for (const v of open.splice(0)) v.close();
});

afterAll(async () => {
  await server.stop();
});

describe('accepted tokens', () => {
  it('RS256 with a space-separated scope and a tier', async () => {
    const principal = await verifierFor().verify(bearer(await sign(rsa)));
    expect(principal).toEqual({ kind: 'user', subject: 'alice', scopes: ['review:write', 'pricing:internal'], tier: 'premium' });
  });

  it('ES256 with an scp array and no tier', async () => {
    const token = await sign(ec, claims({ scope: undefined, scp: ['a', 'b', 'a'], tier: undefined }));
    expect(await verifierFor().verify(bearer(token))).toEqual({ kind: 'user', subject: 'alice', scopes: ['a', 'b'], tier: undefined });
  });

  it('EdDSA with a scopes array and an audience list', async () => {
    const token = await sign(ed, claims({ scope: undefined, scopes: ['x'], aud: ['other', AUDIENCE] }));
    expect(await verifierFor().verify(bearer(token))).toMatchObject({ subject: 'alice', scopes: ['x'] });
  });

  it('no header → anonymous, without touching the IdP', async () => {
    const before = server.requests();
    expect(await verifierFor().verify(undefined)).toBe(ANONYMOUS);
    expect(server.requests()).toBe(before);
  });

  it('scheme is case-insensitive', async () => {
    expect(await verifierFor().verify(`bearer  ${await sign(ec)}`)).toMatchObject({ kind: 'user' });
  });

  it('reads the tier from a configured claim', async () => {
    const token = await sign(ec, claims({ tier: undefined, 'https://portico.dev/plan': 'gold' }));
    expect(await verifierFor({ tierClaim: 'https://portico.dev/plan' }).verify(bearer(token))).toMatchObject({ tier: 'gold' });
  });

  it('accepts any configured issuer', async () => {
    const token = await sign(ec, claims({ iss: 'https://second.test' }));
    expect(await verifierFor({ issuer: [ISSUER, 'https://second.test'] }).verify(bearer(token))).toMatchObject({ kind: 'user' });
  });

  it('does not check iss/aud when they are not configured', async () => {
    const token = await sign(ec, claims({ iss: undefined, aud: undefined }));
    expect(await verifierFor({ issuer: undefined, audience: undefined }).verify(bearer(token))).toMatchObject({ kind: 'user' });
  });

  it('tolerates clock skew on exp and nbf within clockToleranceS, not beyond', async () => {
    const skewed = await sign(ec, claims({ exp: nowS() - 10, nbf: nowS() + 10 }));
    expect(await verifierFor().verify(bearer(skewed))).toMatchObject({ kind: 'user' });
    expect(await reasonOf(verifierFor({ clockToleranceS: 0 }).verify(bearer(await sign(ec, claims({ exp: nowS() - 10 })))))).toBe('expired');
    expect(await reasonOf(verifierFor({ clockToleranceS: 0 }).verify(bearer(await sign(ec, claims({ nbf: nowS() + 10 })))))).toBe('not_yet_valid');
  });

  it('respects a smaller maxTokenBytes', async () => {
    const token = await sign(ec);
    expect(await reasonOf(verifierFor({ maxTokenBytes: token.length - 1 }).verify(bearer(token)))).toBe('too_large');
    expect(await verifierFor({ maxTokenBytes: token.length }).verify(bearer(token))).toMatchObject({ kind: 'user' });
  });
});

describe('offline key sources', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'portico-auth-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function fileVerifier(options: Partial<TokenVerifierOptions>): TokenVerifier {
    const v = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, ...options }, { logger: silentLogger() });
    open.push(v);
    return v;
  }

  it('JWKS file', async () => {
    const path = join(dir, 'jwks.json');
    writeFileSync(path, JSON.stringify(jwksOf(rsa, ec)));
    const v = fileVerifier({ keyFile: path });
    expect(await v.verify(bearer(await sign(ec)))).toMatchObject({ subject: 'alice' });
    expect(await reasonOf(v.verify(bearer(await sign(ed))))).toBe('unknown_key');
  });

  it('PEM public key: its algorithm verifies, other allowed algorithms have no key', async () => {
    const path = join(dir, 'rsa.pem');
    writeFileSync(path, await exportSPKI(rsa.publicKey));
    const v = fileVerifier({ keyFile: path });
    expect(await v.verify(bearer(await sign(rsa, claims(), { kid: undefined })))).toMatchObject({ subject: 'alice' });
    expect(await reasonOf(v.verify(bearer(await sign(ec))))).toBe('unknown_key');
    const [h, , s] = (await sign(rsa, claims(), { kid: undefined })).split('.');
    const swapped = `${h}.${Buffer.from(JSON.stringify(claims({ sub: 'mallory' }))).toString('base64url')}.${s}`;
    expect(await reasonOf(v.verify(bearer(swapped)))).toBe('bad_signature');
  });

  it('PEM key that no allowed algorithm can use is refused at creation', async () => {
    const path = join(dir, 'ec.pem');
    writeFileSync(path, await exportSPKI(ec.publicKey));
    expect(() => fileVerifier({ keyFile: path, algorithms: ['RS256'] })).toThrow(TokenVerifierConfigError);
  });

  it('unreadable or unparsable files are refused at creation', () => {
    const junk = join(dir, 'junk.txt');
    writeFileSync(junk, 'hello');
    expect(() => fileVerifier({ keyFile: junk })).toThrow(/neither a PEM key nor a JWKS/);
    expect(() => fileVerifier({ keyFile: join(dir, 'missing.json') })).toThrow(/cannot be read: ENOENT/);
  });

  it('HS256 only with an explicit secret, and only HS tokens then', async () => {
    const secret = 'a-development-secret-of-at-least-32-bytes!';
    const v = fileVerifier({ hsSecret: secret });
    const hs = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
    expect(await v.verify(bearer(hs))).toMatchObject({ subject: 'alice' });
    const forged = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(`${secret}x`));
    expect(await reasonOf(v.verify(bearer(forged)))).toBe('bad_signature');
    expect(await reasonOf(v.verify(bearer(await sign(rsa))))).toBe('alg_not_allowed');
  });
});

describe('option validation', () => {
  function problemsOf(options: TokenVerifierOptions): readonly string[] {
    try {
      createTokenVerifier(options, { logger: silentLogger() }).close();
    } catch (err) {
      if (err instanceof TokenVerifierConfigError) return err.problems;
      throw err;
    }
    return [];
  }

  it('refuses none even when configured', () => {
    expect(problemsOf({ jwksUrl: 'https://idp.test/jwks', algorithms: ['RS256', 'none'] })).toEqual([expect.stringMatching(/must not contain "none"/)]);
  });

  it('refuses HS algorithms without a secret, and asymmetric ones with a secret', () => {
    expect(problemsOf({ jwksUrl: 'https://idp.test/jwks', algorithms: ['HS256'] })).toEqual([expect.stringMatching(/HS256 needs hsSecret/)]);
    expect(problemsOf({ hsSecret: 'x'.repeat(64), algorithms: ['RS256', 'HS512'] })).toEqual([expect.stringMatching(/RS256 needs a public key source/)]);
  });

  it('refuses a secret shorter than the hash', () => {
    expect(problemsOf({ hsSecret: 'short' })).toEqual([expect.stringMatching(/at least 32 bytes for HS256, got 5/)]);
  });

  it('needs exactly one key source and https (or loopback http)', () => {
    expect(problemsOf({})).toEqual([expect.stringMatching(/one key source is required/)]);
    expect(problemsOf({ jwksUrl: 'https://a.test/j', keyFile: '/tmp/k.pem' })).toEqual([expect.stringMatching(/exactly one key source.*jwksUrl \+ keyFile/)]);
    expect(problemsOf({ jwksUrl: 'http://idp.internal/jwks' })).toEqual([expect.stringMatching(/must use https/)]);
    expect(problemsOf({ jwksUrl: 'http://localhost:4005/.well-known/jwks.json' })).toEqual([]);
  });

  it('collects every problem at once', () => {
    const problems = problemsOf({ jwksUrl: 'ftp://x', algorithms: ['XS1'], clockToleranceS: -1, maxTokenBytes: 1.5, jwksTimeoutMs: 0, tierClaim: '' });
    expect(problems).toHaveLength(6);
  });
});

describe('verification cache', () => {
  it('reuses a verified token without a new key lookup; another token is verified in full', async () => {
    // cacheMaxAge 0: every key lookup fetches the JWKS, so fetches count lookups.
    const v = verifierFor({ jwksCacheMaxAgeMs: 0, jwksCooldownMs: 0 });
    const token = await sign(ec);
    const before = server.requests();
    await v.verify(bearer(token));
    await v.verify(bearer(token));
    expect(server.requests()).toBe(before + 1);
    await v.verify(bearer(await sign(ec, claims({ jti: 'other' }))));
    expect(server.requests()).toBe(before + 2);
  });

  it('verifies every time when disabled', async () => {
    const v = verifierFor({ jwksCacheMaxAgeMs: 0, jwksCooldownMs: 0, verifyCacheTtlMs: 0 });
    const token = await sign(ec);
    const before = server.requests();
    await v.verify(bearer(token));
    await v.verify(bearer(token));
    expect(server.requests()).toBe(before + 2);
  });

  it('never serves a token past its exp', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const v = verifierFor({ clockToleranceS: 0 });
    const token = await sign(ec, claims({ exp: nowS() + 5 }));
    expect(await v.verify(bearer(token))).toMatchObject({ kind: 'user' });
    vi.setSystemTime(Date.now() + 6_000);
    expect(await reasonOf(v.verify(bearer(token)))).toBe('expired');
  });

  it('a tampered copy of a cached token is not served from the cache', async () => {
    const v = verifierFor();
    const token = await sign(rsa);
    await v.verify(bearer(token));
    const [h, p, s = ''] = token.split('.');
    const flipped = s[10] === 'A' ? 'B' : 'A';
    const tampered = `${h}.${p}.${s.slice(0, 10)}${flipped}${s.slice(11)}`;
    expect(await reasonOf(v.verify(bearer(tampered)))).toBe('bad_signature');
  });

  it('verify after close throws', async () => {
    const v = verifierFor();
    v.close();
    v.close();
    await expect(v.verify(bearer(await sign(ec)))).rejects.toThrow(/closed/);
  });
});
