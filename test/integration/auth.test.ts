/**
 * Authentication at the running gateway, over HTTP: hostile tokens, identity forwarding to the mock
 * subgraphs, `required` mode, auth off, and the dev IdP + `npm run token` path. Real parts only: a
 * JWKS server on port 0, the four mocks, and the gateway.
 */
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { exportSPKI, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevIdp, type DevIdp, DEV_AUDIENCE, DEV_ISSUER } from '../../subgraphs-mock/idp.ts';
import { AUDIENCE, b64url, bearer, claims, ISSUER, jwksOf, makeKey, nowS, sign, startCountingServer, startJwksServer } from '../helpers/auth.ts';
import type { JwksServer, TestKey, TestServer } from '../helpers/auth.ts';
import { startStack, type Stack } from '../helpers/portico.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

const PRODUCTS = '{ products(first: 2) { id name price { amount } inventory { inStock } reviews(first: 1) { id } } }';
const IDENTITY = ['x-portico-subject', 'x-portico-scopes', 'x-portico-tier'];

interface Keys {
  rsa: TestKey;
  ec: TestKey;
  attacker: TestKey;
  jkuTarget: TestServer;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function postWith(url: string, authorization: string | undefined, query = '{ __typename }', extra: Record<string, string> = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
  if (authorization !== undefined) headers.authorization = authorization;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query }) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Asserts the 401 contract: status, GraphQL-shaped body with the code, and a Bearer challenge. */
function expectUnauthenticated(a: Answer, challenge: RegExp = /^Bearer error="invalid_token", error_description="[^"]+"$/): void {
  expect(a.status).toBe(401);
  const body = JSON.parse(a.text) as { errors: Array<{ message: string; extensions: { code: string } }> };
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0]!.extensions).toEqual({ code: 'UNAUTHENTICATED' });
  expect(body.errors[0]!.message).toEqual(expect.any(String));
  expect(a.headers.get('www-authenticate')).toMatch(challenge);
}

/** A token of `bytes` characters that looks like a JWS (three base64url segments). */
function paddedToken(bytes: number): string {
  const head = b64url({ alg: 'ES256', kid: 'k' });
  const sig = 'A'.repeat(86);
  const payloadChars = bytes - head.length - sig.length - 2;
  return `${head}.${'A'.repeat(payloadChars)}.${sig}`;
}

interface Row {
  name: string;
  authorization: (k: Keys) => Promise<string> | string;
  /** 401 unless stated: 431 when the header section itself is over PORTICO_MAX_HEADER_BYTES. */
  status?: 401 | 431;
}

const rows: Row[] = [
  { name: 'alg none', authorization: () => bearer(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims())}.`) },
  {
    name: 'HS256 signed with the RSA public key (key confusion)',
    authorization: async ({ rsa }) => {
      const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
      return bearer(await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: rsa.kid }).sign(pem));
    },
  },
  { name: 'unknown kid', authorization: async ({ rsa }) => bearer(await sign(rsa, claims(), { kid: 'no-such-key' })) },
  { name: 'another key claiming our kid', authorization: async ({ attacker, ec }) => bearer(await sign(attacker, claims(), { kid: ec.kid })) },
  { name: 'expired', authorization: async ({ ec }) => bearer(await sign(ec, claims({ iat: nowS() - 7200, exp: nowS() - 120 }))) },
  { name: 'nbf in the future', authorization: async ({ ec }) => bearer(await sign(ec, claims({ nbf: nowS() + 600 }))) },
  { name: 'wrong iss', authorization: async ({ ec }) => bearer(await sign(ec, claims({ iss: 'https://evil.test' }))) },
  { name: 'wrong aud', authorization: async ({ ec }) => bearer(await sign(ec, claims({ aud: 'billing' }))) },
  { name: 'missing exp', authorization: async ({ ec }) => bearer(await sign(ec, claims({ exp: undefined }))) },
  { name: 'missing sub', authorization: async ({ ec }) => bearer(await sign(ec, claims({ sub: undefined }))) },
  { name: 'subject that cannot travel as a header (space)', authorization: async ({ ec }) => bearer(await sign(ec, claims({ sub: 'alice admin' }))) },
  { name: 'garbage token', authorization: () => 'Bearer garbage' },
  { name: 'three empty segments', authorization: () => 'Bearer ..' },
  { name: 'encrypted token shape (JWE)', authorization: () => 'Bearer a.b.c.d.e' },
  { name: 'undecodable header segment', authorization: () => `Bearer !!!.${b64url(claims())}.sig` },
  { name: 'empty header', authorization: () => '' },
  { name: 'Bearer without a token', authorization: () => 'Bearer' },
  { name: 'missing Bearer: bare token', authorization: async ({ ec }) => sign(ec) },
  { name: 'missing Bearer: Basic credentials', authorization: () => 'Basic YWxpY2U6c2VjcmV0' },
  { name: '10 KB token (over PORTICO_JWT_MAX_BYTES, under the header limit)', authorization: () => bearer(paddedToken(10 * 1024)) },
  { name: '20 KB token (over PORTICO_MAX_HEADER_BYTES)', authorization: () => bearer(paddedToken(20 * 1024)), status: 431 },
  {
    name: 'jku pointing at another host',
    authorization: async ({ attacker, jkuTarget }) => bearer(await sign(attacker, claims(), { jku: `${jkuTarget.url}/jwks.json`, kid: attacker.kid })),
  },
];

describe('hostile tokens against the running gateway', () => {
  let keys: Keys;
  let jwks: JwksServer;
  let s: Stack;
  const statuses: number[] = [];

  beforeAll(async () => {
    const [rsa, ec, attacker] = await Promise.all([makeKey('RS256', 'rsa-1'), makeKey('ES256', 'ec-1'), makeKey('ES256', 'attacker-1')]);
    const jkuTarget = await startCountingServer(JSON.stringify(jwksOf(attacker)));
    keys = { rsa, ec, attacker, jkuTarget };
    jwks = await startJwksServer(jwksOf(rsa, ec));
    s = await startStack({ PORTICO_JWKS_URL: jwks.jwksUrl, PORTICO_JWT_ISSUER: ISSUER, PORTICO_JWT_AUDIENCE: AUDIENCE });
  });

  afterAll(async () => {
    await s?.stop();
    await jwks?.stop();
    await keys?.jkuTarget.stop();
  });

  it.each(rows)('$name → refused, never a 500', async (row) => {
    const a = await postWith(s.gw.graphqlUrl, await row.authorization(keys));
    statuses.push(a.status);
    if (row.status === 431) {
      // Refused by the HTTP parser before any handler runs: no body worth parsing, no challenge.
      expect(a.status).toBe(431);
      expect(JSON.parse(a.text).errors[0].extensions.code).toBe('HEADERS_TOO_LARGE');
      return;
    }
    expectUnauthenticated(a);
  });

  it('no hostile token reached a subgraph or got a 5xx, and the jku host saw no request', () => {
    expect(statuses).toHaveLength(rows.length);
    expect(statuses.filter((st) => st >= 500)).toEqual([]);
    expect(keys.jkuTarget.requests()).toBe(0);
    for (const m of Object.values(s.mocks.mocks)) expect(m.stats().recentHeaders.filter((h) => h.authorization !== undefined)).toEqual([]);
  });

  it('GET / executes queries too, and is authenticated the same way', async () => {
    const res = await fetch(`${s.gw.url}/?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { authorization: 'Bearer garbage', 'apollo-require-preflight': 'true' },
    });
    expectUnauthenticated({ status: res.status, headers: res.headers, text: await res.text() });
  });

  it('a valid token is accepted and its identity reaches every subgraph; client identity headers are dropped', async () => {
    for (const m of Object.values(s.mocks.mocks)) m.resetStats();
    const token = await sign(keys.ec, claims({ sub: 'alice', scope: 'review:write pricing:internal', tier: 'premium' }));
    const spoof = { 'x-portico-subject': 'mallory', 'x-portico-scopes': 'admin', 'x-portico-tier': 'enterprise', 'x-request-id': 'auth-valid-1' };
    const a = await postWith(s.gw.graphqlUrl, bearer(token), PRODUCTS, spoof);
    expect(a.status).toBe(200);
    const body = JSON.parse(a.text) as { data: { products: unknown[] }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data.products).toHaveLength(2);

    for (const m of Object.values(s.mocks.mocks)) {
      const seen = m.stats().recentHeaders.filter((h) => h['x-request-id'] === 'auth-valid-1');
      expect(seen.length, m.name).toBeGreaterThan(0);
      for (const h of seen) {
        expect(h['x-portico-subject']).toBe('alice');
        expect(h['x-portico-scopes']).toBe('review:write pricing:internal');
        expect(h['x-portico-tier']).toBe('premium');
        // The token itself stays at the gateway.
        expect(h.authorization).toBeUndefined();
      }
    }
  });

  it('the review subgraph records the verified author, not the one the client claims', async () => {
    const token = await sign(keys.ec, claims({ sub: 'alice', scope: 'review:write' }));
    const mutation = 'mutation { addReview(productId: "1", rating: 5, body: "great") { author } }';
    const a = await postWith(s.gw.graphqlUrl, bearer(token), mutation, { 'x-portico-subject': 'mallory' });
    expect(a.status).toBe(200);
    expect(JSON.parse(a.text)).toEqual({ data: { addReview: { author: 'alice' } } });
  });

  it('an answer with characters beyond Latin-1, short or long, arrives byte for byte with its length', async () => {
    // Both ways src/http/graphql.ts encodes an answer: Buffer.from under 4,096 characters, a
    // TextEncoder from there; a character beyond Latin-1 makes V8 hold the whole answer two
    // bytes a character, and an emoji is a surrogate pair (4 UTF-8 bytes).
    const token = await sign(keys.ec, claims({ sub: 'alice', scope: 'review:write' }));
    for (const body of ['caf\u00e9 \u2014 \u2603 \u{1F600}', 'na\u00efve \u2019quotes\u2019 \u{1F600} '.repeat(80).trim()]) {
      // Three aliases of one body (at most 2,000 characters): the long answer is over 4,096.
      const mutation = `mutation { addReview(productId: "1", rating: 4, body: ${JSON.stringify(body)}) { a: body b: body c: body author } }`;
      const res = await fetch(s.gw.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: bearer(token) }, body: JSON.stringify({ query: mutation }) });
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
      expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
      expect(bytes.equals(Buffer.from(`${JSON.stringify({ data: { addReview: { a: body, b: body, c: body, author: 'alice' } } })}\n`, 'utf8'))).toBe(true);
    }
  });

  it('an anonymous request forwards no identity, whatever identity headers the client sends', async () => {
    for (const m of Object.values(s.mocks.mocks)) m.resetStats();
    const spoof = { 'x-portico-subject': 'mallory', 'x-portico-scopes': 'admin', 'x-portico-tier': 'enterprise', 'x-request-id': 'auth-anon-1' };
    const a = await postWith(s.gw.graphqlUrl, undefined, PRODUCTS, spoof);
    expect(a.status).toBe(200);
    let calls = 0;
    for (const m of Object.values(s.mocks.mocks)) {
      for (const h of m.stats().recentHeaders.filter((x) => x['x-request-id'] === 'auth-anon-1')) {
        calls += 1;
        for (const name of IDENTITY) expect(h[name], `${m.name} ${name}`).toBeUndefined();
      }
    }
    expect(calls).toBeGreaterThanOrEqual(4);
  });
});

describe('PORTICO_AUTH_MODE=required', () => {
  let key: TestKey;
  let jwks: JwksServer;
  let s: Stack;

  beforeAll(async () => {
    key = await makeKey('ES256', 'ec-required');
    jwks = await startJwksServer(jwksOf(key));
    s = await startStack({ PORTICO_JWKS_URL: jwks.jwksUrl, PORTICO_JWT_ISSUER: ISSUER, PORTICO_JWT_AUDIENCE: AUDIENCE, PORTICO_AUTH_MODE: 'required' });
  });

  afterAll(async () => {
    await s?.stop();
    await jwks?.stop();
  });

  it('a request without a token gets 401 with a bare Bearer challenge (RFC 6750 §3.1)', async () => {
    expectUnauthenticated(await postWith(s.gw.graphqlUrl, undefined), /^Bearer$/);
    const res = await fetch(`${s.gw.url}/?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'apollo-require-preflight': 'true' } });
    expectUnauthenticated({ status: res.status, headers: res.headers, text: await res.text() }, /^Bearer$/);
  });

  it('a bad token gets the invalid_token challenge, a valid one is served', async () => {
    expectUnauthenticated(await postWith(s.gw.graphqlUrl, 'Bearer nope'));
    const ok = await postWith(s.gw.graphqlUrl, bearer(await sign(key)));
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toEqual({ data: { __typename: 'Query' } });
  });

  it('health endpoints stay open to the load balancer', async () => {
    expect((await fetch(`${s.gw.url}/health/ready`)).status).toBe(200);
  });
});

describe('authentication off (no key source configured)', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(() => s?.stop());

  it('anonymous requests are served; any token gets 401 because nothing can verify it', async () => {
    expect((await postWith(s.gw.graphqlUrl, undefined)).status).toBe(200);
    const key = await makeKey('ES256', 'nobody-trusts-me');
    expectUnauthenticated(await postWith(s.gw.graphqlUrl, bearer(await sign(key))));
  });
});

describe('the dev IdP and npm run token', () => {
  let idp: DevIdp;
  let s: Stack;
  beforeAll(async () => {
    idp = await startDevIdp({ port: 0 });
    // What scripts/dev.ts configures.
    s = await startStack({ PORTICO_JWKS_URL: idp.jwksUrl, PORTICO_JWT_ISSUER: DEV_ISSUER, PORTICO_JWT_AUDIENCE: DEV_AUDIENCE });
  });
  afterAll(async () => {
    await s?.stop();
    await idp?.stop();
  });

  it('a token printed by `npm run token` is accepted, and its subject reaches the subgraphs', async () => {
    const { stdout } = await run('npm', ['run', '-s', 'token', '--', '--sub', 'dev-alice', '--scopes', 'review:write', '--tier', 'premium'], { cwd: ROOT, timeout: 30_000 });
    const token = stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const a = await postWith(s.gw.graphqlUrl, bearer(token), '{ latestReviews(first: 1) { id } }', { 'x-request-id': 'dev-token-1' });
    expect(a.status).toBe(200);
    const seen = s.mocks.mocks.review.stats().recentHeaders.filter((h) => h['x-request-id'] === 'dev-token-1');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ 'x-portico-subject': 'dev-alice', 'x-portico-scopes': 'review:write', 'x-portico-tier': 'premium' });
  });
});

describe('introspection in production: closed, open to the developer scope', () => {
  let key: TestKey;
  let jwks: JwksServer;
  let s: Stack;
  const SCHEMA = '{ __schema { queryType { name } } }';

  beforeAll(async () => {
    key = await makeKey('ES256', 'ec-introspect');
    jwks = await startJwksServer(jwksOf(key));
    s = await startStack({
      NODE_ENV: 'production',
      PORTICO_JWKS_URL: jwks.jwksUrl,
      PORTICO_JWT_ISSUER: ISSUER,
      PORTICO_JWT_AUDIENCE: AUDIENCE,
      PORTICO_INTROSPECTION_SCOPE: 'graph:introspect',
    });
  });

  afterAll(async () => {
    await s?.stop();
    await jwks?.stop();
  });

  function expectIntrospectionRefused(a: Answer): void {
    expect(a.status).toBe(400);
    const body = JSON.parse(a.text) as { data?: unknown; errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.data).toBeUndefined();
    expect(body.errors[0]!.message).toMatch(/introspection/i);
    expect(body.errors[0]!.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  }

  it('anonymous callers and tokens without the scope cannot introspect, even through a fragment', async () => {
    expectIntrospectionRefused(await postWith(s.gw.graphqlUrl, undefined, SCHEMA));
    const plain = bearer(await sign(key, claims({ scope: 'review:write' })));
    expectIntrospectionRefused(await postWith(s.gw.graphqlUrl, plain, SCHEMA));
    const hidden = 'query { ...F } fragment F on Query { __type(name: "Product") { name } }';
    expectIntrospectionRefused(await postWith(s.gw.graphqlUrl, plain, hidden));
  });

  it('a token with graph:introspect can introspect', async () => {
    const dev = bearer(await sign(key, claims({ scope: 'graph:introspect' })));
    const a = await postWith(s.gw.graphqlUrl, dev, SCHEMA);
    expect(a.status).toBe(200);
    expect(JSON.parse(a.text)).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });

  it('__typename is always allowed', async () => {
    const a = await postWith(s.gw.graphqlUrl, undefined, '{ __typename products(first: 1) { __typename id } }');
    expect(a.status).toBe(200);
    expect(JSON.parse(a.text)).toEqual({ data: { __typename: 'Query', products: [{ __typename: 'Product', id: '1' }] } });
  });
});
