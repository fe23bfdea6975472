/**
 * The JWKS edge against a real HTTP server: rotation, cooldown under a random-kid flood,
 * stale-if-error while the IdP is down or broken, and bounded staleness. Time moves only through
 * a faked Date (jose and the verifier read Date.now()), never through sleeps.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../src/auth/errors.ts';
import type { JwksFetchOutcome } from '../../src/auth/jwks.ts';
import { createTokenVerifier } from '../../src/auth/jwt.ts';
import type { TokenVerifier, TokenVerifierOptions } from '../../src/auth/types.ts';
import { AUDIENCE, bearer, capturingLogger, claims, ISSUER, jwksOf, makeKey, sign, startJwksServer } from '../helpers/auth.ts';
import type { JwksServer, TestKey } from '../helpers/auth.ts';

let keyA: TestKey;
let server: JwksServer;
let verifier: TokenVerifier | undefined;
let outcomes: JwksFetchOutcome[];
let logLines: Array<Record<string, unknown>>;

function create(options: Partial<TokenVerifierOptions>): TokenVerifier {
  const { logger, lines } = capturingLogger();
  logLines = lines;
  verifier = createTokenVerifier(
    // Verification cache off unless a test wants it: each verify must reach the key source.
    { jwksUrl: server.jwksUrl, issuer: ISSUER, audience: AUDIENCE, verifyCacheTtlMs: 0, ...options },
    { logger, onJwksFetch: (outcome) => outcomes.push(outcome) },
  );
  return verifier;
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof AuthError)) throw new Error(`expected an AuthError, got ${String(err)}`);
  return err.reason;
}

/** A fresh valid token each call (distinct jti), so no cache can answer for it. */
async function freshToken(key: TestKey = keyA): Promise<string> {
  return bearer(await sign(key, claims({ jti: randomUUID() })));
}

function advance(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
  keyA = await makeKey('ES256', 'key-a');
  server = await startJwksServer(jwksOf(keyA));
  outcomes = [];
});

afterEach(async () => {
  verifier?.close();
  verifier = undefined;
  vi.useRealTimers();
  await server.stop();
});

describe('rotation', () => {
  it('accepts a token signed with a newly published key without restart', async () => {
    const v = create({ jwksCooldownMs: 0 });
    await v.verify(await freshToken());
    const keyB = await makeKey('RS256', 'key-b');
    server.setJwks(jwksOf(keyA, keyB));
    expect(await v.verify(await freshToken(keyB))).toMatchObject({ subject: 'alice' });
    expect(server.requests()).toBe(2);
    expect(outcomes).toEqual(['success', 'success']);
  });

  it('waits for the cooldown before looking for a new key, then finds it', async () => {
    const v = create({ jwksCooldownMs: 30_000 });
    await v.verify(await freshToken());
    const keyB = await makeKey('ES256', 'key-b');
    server.setJwks(jwksOf(keyA, keyB));
    expect(await reasonOf(v.verify(await freshToken(keyB)))).toBe('unknown_key');
    expect(server.requests()).toBe(1);
    advance(30_001);
    expect(await v.verify(await freshToken(keyB))).toMatchObject({ kind: 'user' });
    expect(server.requests()).toBe(2);
  });

  it('stops trusting a withdrawn key once the cache age passes', async () => {
    const v = create({ jwksCacheMaxAgeMs: 60_000 });
    await v.verify(await freshToken());
    const keyB = await makeKey('ES256', 'key-b');
    server.setJwks(jwksOf(keyB));
    expect(await v.verify(await freshToken())).toMatchObject({ kind: 'user' });
    advance(60_001);
    expect(await reasonOf(v.verify(await freshToken()))).toBe('unknown_key');
  });
});

describe('random-kid flood', () => {
  it('costs at most one JWKS fetch per cooldown', async () => {
    const v = create({ jwksCooldownMs: 60_000 });
    const flood = async (): Promise<string[]> =>
      Promise.all(
        Array.from({ length: 50 }, async () => reasonOf(v.verify(bearer(await sign(keyA, claims(), { kid: randomUUID() }))))),
      );

    // Cold start: 50 concurrent unknown kids share the one initial fetch.
    expect(new Set(await flood())).toEqual(new Set(['unknown_key']));
    expect(server.requests()).toBe(1);
    // Again, sequentially, inside the same cooldown: no fetch at all.
    for (let i = 0; i < 50; i += 1) {
      expect(await reasonOf(v.verify(bearer(await sign(keyA, claims(), { kid: randomUUID() }))))).toBe('unknown_key');
    }
    expect(server.requests()).toBe(1);
    // Next cooldown window: one more.
    advance(60_001);
    await flood();
    expect(server.requests()).toBe(2);
    // Genuine tokens were never disturbed.
    expect(await v.verify(await freshToken())).toMatchObject({ kind: 'user' });
  });

  it('still costs at most one fetch per cooldown while the IdP is failing', async () => {
    const v = create({ jwksCooldownMs: 60_000 });
    await v.verify(await freshToken());
    server.setMode('error');
    advance(60_001);
    const reasons = await Promise.all(
      Array.from({ length: 50 }, async () => reasonOf(v.verify(bearer(await sign(keyA, claims(), { kid: randomUUID() }))))),
    );
    expect(new Set(reasons)).toEqual(new Set(['unknown_key']));
    for (let i = 0; i < 20; i += 1) await reasonOf(v.verify(bearer(await sign(keyA, claims(), { kid: randomUUID() }))));
    expect(server.requests()).toBe(2);
    expect(outcomes.filter((o) => o === 'failure')).toHaveLength(1);
  });
});

describe('stale-if-error', () => {
  it('keeps verifying when the JWKS server is killed (keys still fresh)', async () => {
    const v = create({});
    await v.verify(await freshToken());
    await server.stop();
    expect(await v.verify(await freshToken())).toMatchObject({ subject: 'alice' });
    expect(outcomes).toEqual(['success']);
  });

  it('keeps verifying with last good keys when every lookup must refetch and the server is dead', async () => {
    const v = create({ jwksCacheMaxAgeMs: 0, jwksCooldownMs: 0 });
    await v.verify(await freshToken());
    await server.stop();
    for (let i = 0; i < 3; i += 1) expect(await v.verify(await freshToken())).toMatchObject({ subject: 'alice' });
    // Each lookup tried the (dead) endpoint, failed, and fell back.
    expect(outcomes).toEqual(['success', 'failure', 'stale', 'failure', 'stale', 'failure', 'stale']);
    // Loud once, not once per request.
    expect(logLines.filter((l) => l.msg === 'JWKS unavailable; verifying with last good keys')).toHaveLength(1);
  });

  it('does not retry a failed endpoint within the cooldown, and recovers after it', async () => {
    const v = create({ jwksCacheMaxAgeMs: 0, jwksCooldownMs: 10_000 });
    await v.verify(await freshToken());
    server.setMode('error');
    for (let i = 0; i < 5; i += 1) expect(await v.verify(await freshToken())).toMatchObject({ kind: 'user' });
    expect(server.requests()).toBe(2);
    expect(outcomes).toEqual(['success', 'failure', 'stale', 'stale', 'stale', 'stale', 'stale']);

    server.setMode('ok');
    advance(10_001);
    expect(await v.verify(await freshToken())).toMatchObject({ kind: 'user' });
    expect(server.requests()).toBe(3);
    expect(outcomes.at(-1)).toBe('success');
    expect(logLines.some((l) => l.msg === 'JWKS fetch recovered; verifying with fresh keys again')).toBe(true);
  });

  it.each(['garbage', 'huge'] as const)('a %s response never replaces the last good keys', async (mode) => {
    const v = create({ jwksCacheMaxAgeMs: 0, jwksCooldownMs: 0 });
    await v.verify(await freshToken());
    server.setMode(mode);
    expect(await v.verify(await freshToken())).toMatchObject({ kind: 'user' });
    expect(outcomes).toEqual(['success', 'failure', 'stale']);
  });

  it('gives up after jwksMaxStaleMs', async () => {
    const v = create({ jwksCacheMaxAgeMs: 0, jwksCooldownMs: 0, jwksMaxStaleMs: 60_000 });
    await v.verify(await freshToken());
    await server.stop();
    advance(59_000);
    expect(await v.verify(await freshToken())).toMatchObject({ kind: 'user' });
    advance(2_000);
    expect(await reasonOf(v.verify(await freshToken()))).toBe('jwks_unavailable');
  });

  it('reports jwks_unavailable when keys were never fetched', async () => {
    server.setMode('error');
    const v = create({ jwksCooldownMs: 60_000 });
    expect(await reasonOf(v.verify(await freshToken()))).toBe('jwks_unavailable');
    expect(await reasonOf(v.verify(await freshToken()))).toBe('jwks_unavailable');
    expect(server.requests()).toBe(1);
    expect(outcomes).toEqual(['failure']);
  });

  it('a hanging endpoint fails at jwksTimeoutMs', async () => {
    server.setMode('hang');
    const v = create({ jwksTimeoutMs: 200 });
    expect(await reasonOf(v.verify(await freshToken()))).toBe('jwks_unavailable');
    expect(outcomes).toEqual(['failure']);
  });

  it('close() aborts an in-flight fetch instead of waiting for the timeout', async () => {
    server.setMode('hang');
    // A timeout longer than the test's own limit: only close() can end this verify in time.
    const v = create({ jwksTimeoutMs: 120_000 });
    const pending = v.verify(await freshToken());
    await server.waitForRequests(1);
    v.close();
    expect(await reasonOf(pending)).toBe('jwks_unavailable');
  });
});

describe('observability hook', () => {
  it('a throwing onJwksFetch does not change the verdict', async () => {
    const { logger, lines } = capturingLogger();
    verifier = createTokenVerifier(
      { jwksUrl: server.jwksUrl, issuer: ISSUER, audience: AUDIENCE },
      {
        logger,
        onJwksFetch: () => {
          throw new Error('metrics broke');
        },
      },
    );
    expect(await verifier.verify(await freshToken())).toMatchObject({ kind: 'user' });
    expect(lines.some((l) => l.msg === 'onJwksFetch hook threw')).toBe(true);
  });
});
