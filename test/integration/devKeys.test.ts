/**
 * A production gateway never trusts development keys, whatever URL, port or file they come from:
 * pointed at the dev IdP on a random port (no issuer or audience configured, as in the report) it
 * refuses to start; and whatever it trusts, every token with the development issuer or a
 * development kid is refused 401. PORTICO_ALLOW_DEV_KEYS=true still opens it for local testing.
 * Real gateway, dev IdP, JWKS server and mocks, all on port 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/logging/index.ts';
import { createPortico } from '../../src/server.ts';
import { DEV_ISSUER, devPublicJwks, signDevToken, startDevIdp, type DevIdp } from '../../subgraphs-mock/idp.ts';
import { bearer, claims, jwksOf, makeKey, sign, startJwksServer, type JwksServer, type TestKey } from '../helpers/auth.ts';
import { LogCapture, startStack, type Stack } from '../helpers/portico.ts';
import { until } from '../../devkit/wait.ts';

const PRODUCTS = '{ products(first: 1) { id } }';

async function postWith(url: string, authorization: string, requestId: string) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization, 'x-request-id': requestId }, body: JSON.stringify({ query: PRODUCTS }) });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: (await res.json()) as any };
}

/** Starts a production gateway with `env`; resolves with why it refused, or fails if it started. */
async function startRefusal(env: Record<string, string>): Promise<ConfigError> {
  const config = loadConfig({ NODE_ENV: 'production', PORT: '0', PORTICO_HOST: '127.0.0.1', PORTICO_OPS_ENABLED: 'false', ...env });
  const portico = createPortico(config, { logger: createLogger({ level: 'info' }, new LogCapture().stream) });
  try {
    const err = await portico.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(err)}`);
    expect(portico.state()).not.toBe('ready');
    return err;
  } finally {
    await portico.stop();
  }
}

describe('production and the development IdP on a random port', () => {
  let idp: DevIdp;
  beforeAll(async () => {
    idp = await startDevIdp({ port: 0 });
    expect(idp.port).not.toBe(4005);
  });
  afterAll(() => idp?.stop());

  it('refuses to start when its JWKS URL serves development keys, naming the variable and the override', async () => {
    const err = await startRefusal({ PORTICO_JWKS_URL: idp.jwksUrl });
    expect(err.problems).toEqual([expect.stringMatching(/^PORTICO_JWKS_URL: PORTICO_JWKS_URL http:\/\/127\.0\.0\.1:\d+\/.* serves development keys \(portico-dev-only-es256-1\): .*\(PORTICO_ALLOW_DEV_KEYS=true overrides\)$/)]);
  });

  describe('with PORTICO_ALLOW_DEV_KEYS=true (local production-mode testing)', () => {
    let s: Stack;
    beforeAll(async () => {
      s = await startStack({ NODE_ENV: 'production', PORTICO_ALLOW_DEV_KEYS: 'true', PORTICO_JWKS_URL: idp.jwksUrl });
    });
    afterAll(() => s?.stop());

    it('starts and accepts dev tokens', async () => {
      const r = await postWith(s.gw.graphqlUrl, bearer(await signDevToken({ sub: 'alice' })), 'dev-allowed-1');
      expect(r.status).toBe(200);
      expect(r.body.data.products).toHaveLength(1);
    });
  });
});

describe('a production gateway checks every token', () => {
  let prod: TestKey;
  let jwks: JwksServer;
  let s: Stack;

  beforeAll(async () => {
    prod = await makeKey('ES256', 'prod-1');
    jwks = await startJwksServer(jwksOf(prod));
    // Down at start-up: the start check cannot see the keys, so only per-fetch and per-token
    // checks stand between a development key and the gateway.
    jwks.setMode('error');
    s = await startStack({ NODE_ENV: 'production', PORTICO_JWKS_URL: jwks.jwksUrl, PORTICO_JWKS_COOLDOWN_MS: '0' });
    jwks.setMode('ok');
  });
  afterAll(async () => {
    await s?.stop();
    await jwks?.stop();
  });

  it('refuses, 401, every token with the development issuer or a development kid, even signed by a trusted key', async () => {
    const tokens: Record<string, string> = {
      'npm run token': await signDevToken({ sub: 'mallory', scopes: ['review:write'] }),
      'trusted key, development kid': await sign(prod, claims(), { kid: 'portico-dev-anything' }),
      'trusted key, development issuer': await sign(prod, claims({ iss: DEV_ISSUER })),
    };
    for (const [name, token] of Object.entries(tokens)) {
      const r = await postWith(s.gw.graphqlUrl, bearer(token), 'dev-refused');
      expect(r.status, name).toBe(401);
      expect(r.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(r.body.errors[0].message).toMatch(/development identity provider/);
      expect(r.challenge).toMatch(/^Bearer error="invalid_token"/);
    }
    const ok = await postWith(s.gw.graphqlUrl, bearer(await sign(prod, claims())), 'dev-prod-ok');
    expect(ok.status).toBe(200);
    const lines = await until('the refusals in the access log', () => {
      const l = s.gw.logs.find((x) => x.event === 'access' && x.requestId === 'dev-refused');
      return l.length === 3 ? l : undefined;
    });
    for (const line of lines) expect(line).toMatchObject({ status: 401 });
  });

  it('never uses a key set that serves the development key, under any kid', async () => {
    // A rotation that adds a new production key and, by mistake or malice, the committed dev key.
    const next = await makeKey('ES256', 'prod-2');
    jwks.setJwks({ keys: [prod.publicJwk, next.publicJwk, { ...devPublicJwks().keys[0]!, kid: 'prod-3' }] });
    // The new kid makes the gateway refetch; the key set is refused whole, so even the new
    // production key is not used until the dev key is gone.
    const r = await postWith(s.gw.graphqlUrl, bearer(await sign(next, claims())), 'dev-keyset');
    expect(r.status).toBe(401);
    expect(s.gw.logs.find((l) => /serves development keys/.test(String(l.msg))).length).toBeGreaterThan(0);
    // The last good keys keep verifying production tokens.
    expect((await postWith(s.gw.graphqlUrl, bearer(await sign(prod, claims())), 'dev-prod-still-ok')).status).toBe(200);
  });
});
