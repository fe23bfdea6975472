import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPortico, startStack, type RunningPortico, type Stack } from '../helpers/portico.ts';

async function post(url: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as any };
}

describe('development mode', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ NODE_ENV: 'development' });
  });
  afterAll(() => s.stop());

  it('a browser opening /graphql or / gets the embedded Apollo Sandbox', async () => {
    for (const path of ['/graphql', '/']) {
      const res = await fetch(`${s.gw.url}${path}`, { headers: { accept: 'text/html' } });
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toMatch(/new window\.EmbeddedSandbox/);
    }
  });

  it('introspection is on', async () => {
    const r = await s.gql('{ __schema { queryType { name } } }');
    expect(r.body.data.__schema.queryType.name).toBe('Query');
  });

  it('health: live always, ready once the supergraph is loaded', async () => {
    const live = await fetch(`${s.gw.url}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${s.gw.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as any).status).toBe('ready');
  });

  it('bad input gets a coded 4xx, never a 500', async () => {
    const malformed = await post(s.gw.graphqlUrl, '{"query": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    const wrongType = await post(s.gw.graphqlUrl, 'query { products { id } }', { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);
    const huge = await post(s.gw.graphqlUrl, "a".repeat(10 * 1024 * 1024));
    expect(huge.status).toBe(413);
    expect(huge.body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    const noQuery = await post(s.gw.graphqlUrl, '{"variables": {}}');
    expect(noQuery.status).toBe(400);
    const batched = await post(s.gw.graphqlUrl, '[{"query":"{ __typename }"},{"query":"{ __typename }"}]');
    expect(batched.status).toBe(400);
  });

  it('a refused token is answered 401 before the body is read, even a 10 MB one', async () => {
    // No key source is configured here, so every token is refused; authentication runs before
    // body parsing, so neither the body limit nor the JSON parser is reached.
    const huge = await post(s.gw.graphqlUrl, 'a'.repeat(10 * 1024 * 1024), { 'content-type': 'application/json', authorization: 'Bearer x.y.z' });
    expect(huge.status).toBe(401);
    expect(huge.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('CORS: local front ends and Apollo Studio are granted by default, other origins are not', async () => {
    for (const origin of ['https://studio.apollographql.com', 'https://sandbox.embed.apollographql.com', 'http://localhost:3000', 'http://127.0.0.1:5173']) {
      const res = await fetch(s.gw.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: '{"query":"{ __typename }"}' });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin'), origin).toBe(origin);
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(res.headers.get('vary')).toMatch(/origin/i);
    }
    for (const origin of ['https://evil.example', 'http://localhost.evil.example', 'null', 'https://studio.apollographql.com.evil.example']) {
      const res = await fetch(s.gw.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: '{"query":"{ __typename }"}' });
      expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('CORS preflight: answered 204 before authentication; grants only for an allowed origin', async () => {
    const preflight = (origin: string) =>
      fetch(s.gw.graphqlUrl, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
      });
    const ok = await preflight('https://studio.apollographql.com');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://studio.apollographql.com');
    expect(ok.headers.get('access-control-allow-methods')).toBe('GET, POST');
    expect(ok.headers.get('access-control-allow-headers')).toBe('content-type, authorization');
    expect(ok.headers.get('access-control-max-age')).toBe('600');
    const denied = await preflight('https://evil.example');
    expect(denied.status).toBe(204);
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
    expect(denied.headers.get('access-control-allow-methods')).toBeNull();
  });
});

describe('production mode', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ NODE_ENV: 'production' });
  });
  afterAll(() => s.stop());

  it('CSRF prevention: a simple cross-site GET query is refused; with a preflight header it runs', async () => {
    const q = encodeURIComponent('{ products(first: 1) { id } }');
    const simple = await fetch(`${s.gw.graphqlUrl}?query=${q}`);
    expect(simple.status).toBe(400);
    expect(await simple.text()).toMatch(/CSRF|preflight/i);
    const ok = await fetch(`${s.gw.graphqlUrl}?query=${q}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(ok.status).toBe(200);
  });

  it('no query plan through request headers, and no stack traces', async () => {
    const res = await fetch(s.gw.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'apollo-query-plan-experimental': '1' },
      body: JSON.stringify({ query: '{ products(first: 1) { id price { amount } } }' }),
    });
    const body = (await res.json()) as any;
    expect(JSON.stringify(body)).not.toMatch(/queryPlan|Sequence|Fetch\(service/);
    const bad = await s.gql('{ product(id: 1, extra: 2) { id } }');
    expect(JSON.stringify(bad.body)).not.toMatch(/stacktrace|\n\s+at /);
  });

  it('introspection is off and the landing page is not Sandbox', async () => {
    const r = await s.gql('{ __schema { queryType { name } } }');
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body.errors)).toMatch(/introspection/i);
    const res = await fetch(`${s.gw.graphqlUrl}`, { headers: { accept: 'text/html' } });
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).not.toMatch(/EmbeddedSandbox/);
  });

  it('no "Did you mean" suggestions leak the schema', async () => {
    const r = await s.gql('{ produc { id } }');
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body.errors)).not.toMatch(/Did you mean/);
  });

  it('CORS: no browser origin is granted unless configured', async () => {
    for (const origin of ['https://studio.apollographql.com', 'http://localhost:3000']) {
      const r = await s.gql('{ __typename }', undefined, { origin });
      expect(r.status).toBe(200);
      expect(r.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });
});

describe('CORS with a configured origin list and credentials', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ NODE_ENV: 'production', PORTICO_CORS_ORIGINS: 'https://app.example.com,https://admin.example.com', PORTICO_CORS_CREDENTIALS: 'true' });
  });
  afterAll(() => s.stop());

  it('grants listed origins with credentials, others nothing; a 401 carries the grant so the page can read it', async () => {
    const ok = await s.gql('{ __typename }', undefined, { origin: 'https://app.example.com' });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/);
    const other = await s.gql('{ __typename }', undefined, { origin: 'https://app.example.com:8443' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('access-control-allow-credentials')).toBeNull();
    const refused = await s.gql('{ __typename }', undefined, { origin: 'https://admin.example.com', authorization: 'Bearer x.y.z' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
  });
});

describe('slow clients', () => {
  let gw: RunningPortico;
  beforeAll(async () => {
    gw = await startPortico({ PORTICO_HEADERS_TIMEOUT_MS: '500' });
  });
  afterAll(() => gw.stop());

  it('a client that sends headers byte by byte is cut off at the header timeout', async () => {
    const socket = connect(Number(new URL(gw.url).port), '127.0.0.1');
    await once(socket, 'connect');
    const closed = once(socket, 'close');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => void (received += chunk));
    // Writes racing the server's close may fail with EPIPE/ECONNRESET: that is the cut-off too.
    socket.on('error', () => undefined);
    // Far more header bytes than the trickle can deliver before the bound below.
    const request = `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(100_000)}`;
    let sent = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed && socket.writable) socket.write(request[sent++]!);
    }, 10);
    let bound: NodeJS.Timeout | undefined;
    try {
      // Node checks header timeouts once a second (CONNECTION_CHECK_INTERVAL_MS): closed within
      // ~1.5 s; the 10 s bound only keeps a broken server from hanging the suite.
      await Promise.race([
        closed,
        new Promise((_, reject) => (bound = setTimeout(() => reject(new Error('server kept a slow-header client open for 10 s')), 10_000))),
      ]);
    } finally {
      clearInterval(trickle);
      clearTimeout(bound);
      socket.destroy();
    }
    expect(sent).toBeLessThan(request.length);
    // Node reports the timeout; Fastify's client-error handler answers 408 and closes the socket.
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(received).toContain('"code":"REQUEST_TIMEOUT"');
  });
});
