/**
 * Credentials are unambiguous: one `Authorization` header, nowhere else. Two headers (in either
 * order, any spelling), or a token also (or only) in the query string or the body, are refused
 * with 400 `invalid_request` before any verification: the JWKS is not even fetched, and no
 * mutation runs. Real gateway, JWKS server and mocks on port 0; raw sockets where a client
 * library would merge repeated headers.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/catalogue.ts';
import { AUDIENCE, bearer, claims, ISSUER, jwksOf, makeKey, sign, startJwksServer, type JwksServer, type TestKey } from '../helpers/auth.ts';
import { startStack, type Stack } from '../helpers/portico.ts';
import { until } from '../../devkit/wait.ts';

const ADD = 'mutation { addReview(productId: "1", rating: 5, body: "two-headers") { id author } }';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One HTTP/1.1 request written byte for byte, so repeated headers reach the server as sent. */
function raw(url: string, method: string, target: string, headers: string[], body = ''): Promise<RawAnswer> {
  const { hostname, port, host } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
      const parsed: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(':');
        parsed[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0), headers: parsed, body: text.slice(split + 4) });
    });
    const b = Buffer.from(body);
    const head = [`${method} ${target} HTTP/1.1`, `Host: ${host}`, 'Connection: close', ...(body ? ['Content-Type: application/json', `Content-Length: ${b.length}`] : []), ...headers];
    // write, not end: a half-closed connection reads as a client gone, and the request is aborted.
    socket.write(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), b]));
  });
}

function expectInvalidRequest(a: RawAnswer, message: RegExp): void {
  expect(a.status, a.body).toBe(400);
  const body = JSON.parse(a.body) as { data?: unknown; errors: Array<{ message: string; extensions: { code: string } }> };
  expect(body.data).toBeUndefined();
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0]!.extensions).toEqual({ code: ErrorCode.INVALID_AUTH_REQUEST });
  expect(body.errors[0]!.message).toMatch(message);
  expect(a.headers['www-authenticate']).toMatch(/^Bearer error="invalid_request", error_description="[^"\\]+"$/);
}

describe('ambiguous credentials, with a JWKS-backed verifier', () => {
  let key: TestKey;
  let jwks: JwksServer;
  let s: Stack;
  let valid: string;

  beforeAll(async () => {
    key = await makeKey('ES256', 'ec-1');
    jwks = await startJwksServer(jwksOf(key));
    s = await startStack({ PORTICO_JWKS_URL: jwks.jwksUrl, PORTICO_JWT_ISSUER: ISSUER, PORTICO_JWT_AUDIENCE: AUDIENCE });
    valid = bearer(await sign(key, claims({ sub: 'alice', scope: 'review:write' })));
  });
  afterAll(async () => {
    await s?.stop();
    await jwks?.stop();
  });

  const post = (headers: string[], body: Record<string, unknown> = { query: ADD }, target = '/graphql', requestId = 'cred-probe') =>
    raw(s.gw.url, 'POST', target, [...headers, `x-request-id: ${requestId}`], JSON.stringify(body));

  it('refuses every ambiguous request before any verification (the JWKS is never fetched) and runs no mutation', async () => {
    const garbage = 'Bearer garbage';
    const cases: Array<[string, Promise<RawAnswer>, RegExp]> = [
      ['valid first, garbage second', post([`Authorization: ${valid}`, `Authorization: ${garbage}`]), /2 Authorization headers/],
      ['garbage first, valid second', post([`Authorization: ${garbage}`, `Authorization: ${valid}`]), /2 Authorization headers/],
      ['the same valid token twice', post([`Authorization: ${valid}`, `Authorization: ${valid}`]), /2 Authorization headers/],
      ['two spellings of the name', post([`authorization: ${valid}`, `AUTHORIZATION: ${valid}`]), /2 Authorization headers/],
      ['a valid one and an empty one', post([`Authorization: ${valid}`, 'Authorization: ']), /2 Authorization headers/],
      ['three headers', post([`Authorization: ${valid}`, `Authorization: ${valid}`, `Authorization: ${valid}`]), /3 Authorization headers/],
      ['header and query string', post([`Authorization: ${valid}`], { query: ADD }, `/graphql?access_token=${valid.slice(7)}`), /sent twice.*query string/],
      ['query string only', post([], { query: ADD }, `/graphql?access_token=${valid.slice(7)}`), /query string is not accepted/],
      ['query string, name percent-encoded', post([], { query: ADD }, `/graphql?%61ccess_token=${valid.slice(7)}`), /query string is not accepted/],
      ['header and body', post([`Authorization: ${valid}`], { query: ADD, access_token: valid.slice(7) }), /sent twice.*body/],
      ['body only', post([], { query: ADD, access_token: valid.slice(7) }), /in the body is not accepted/],
    ];
    for (const [name, answer, message] of cases) {
      const a = await answer;
      expect(a.status, name).toBe(400);
      expectInvalidRequest(a, message);
    }
    // Refused before any verification: no key was ever looked up, so the JWKS was never fetched.
    expect(jwks.requests()).toBe(0);
    expect(s.mocks.mocks.review.stats().mutations).toBe(0);
  });

  it('GET with access_token in the query string is refused too', async () => {
    const target = `/graphql?query=${encodeURIComponent('{ __typename }')}&access_token=${valid.slice(7)}`;
    expectInvalidRequest(await raw(s.gw.url, 'GET', target, ['apollo-require-preflight: true']), /query string is not accepted/);
  });

  it('one Authorization header still works, and the mutation runs once', async () => {
    const a = await post([`Authorization: ${valid}`], { query: ADD }, '/graphql', 'cred-ok');
    expect(a.status, a.body).toBe(200);
    expect(JSON.parse(a.body)).toMatchObject({ data: { addReview: { author: 'alice' } } });
    expect(s.mocks.mocks.review.stats().mutations).toBe(1);
    expect(jwks.requests()).toBe(1);
  });

  it('a token in a GraphQL variable named access_token is just data', async () => {
    const query = 'query Q($access_token: Int) { products(first: $access_token) { id } }';
    const a = await post([`Authorization: ${valid}`], { query, variables: { access_token: 1 } }, '/graphql', 'cred-variable');
    expect(a.status, a.body).toBe(200);
  });

  it('the access log records the 400s', async () => {
    const lines = await until('the refusals in the access log', () => {
      const l = s.gw.logs.find((x) => x.event === 'access' && x.requestId === 'cred-probe' && x.status === 400);
      return l.length >= 11 ? l : undefined;
    });
    for (const line of lines) expect(line).toMatchObject({ status: 400, operationType: 'none', tier: 'anonymous' });
  });
});

describe('ambiguous credentials, authentication off', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(() => s?.stop());

  it('two Authorization headers are still a 400, not a 401', async () => {
    const a = await raw(s.gw.url, 'POST', '/graphql', ['Authorization: Bearer a.b.c', 'Authorization: Bearer d.e.f'], JSON.stringify({ query: '{ __typename }' }));
    expectInvalidRequest(a, /2 Authorization headers/);
  });
});
