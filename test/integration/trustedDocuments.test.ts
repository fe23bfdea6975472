import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_JWKS_FILE, signDevToken } from '../../subgraphs-mock/idp.ts';
import { startStack, type Stack } from '../helpers/portico.ts';
import { sampleValue, scrape } from '../helpers/promText.ts';
import { until } from '../../devkit/wait.ts';

const AUTH_ENV = { PORTICO_JWKS_FILE: DEV_JWKS_FILE, PORTICO_JWT_ISSUER: DEV_ISSUER, PORTICO_JWT_AUDIENCE: DEV_AUDIENCE };
const BYPASS_SCOPE = 'graph:develop';
const bearer = async (scopes: string[]) => ({ authorization: `Bearer ${await signDevToken({ sub: 'dev', scopes })}` });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What the published apps send: a product listing and a product page. */
const LISTING = 'query Listing { products(first: 2) { id name price { amount } } }';
const PRODUCT = 'query Product($id: ID!) { product(id: $id) { id name } }';
/** Something no app sends. */
const UNLISTED = '{ products(first: 1) { id name inventory { quantity } } }';

function apolloManifest(bodies: readonly string[]): string {
  const operations = bodies.map((body) => ({ id: sha256(body), name: /query (\w+)/.exec(body)?.[1] ?? 'anonymous', type: 'query', body }));
  return JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations });
}

/** Writes in one step (write + rename), as deploy tools do. */
function writeAtomically(path: string, text: string) {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

interface Answer {
  status: number;
  body: { data?: any; errors?: any[] };
}

async function post(s: Stack, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(s.gw.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

const code = (a: Answer) => a.body.errors?.[0]?.extensions?.code as string | undefined;
const subgraphCalls = (s: Stack) => Object.values(s.mocks.mocks).reduce((n, m) => n + m.stats().requests, 0);

describe('enforce mode, Apollo persisted query list from a file, developer bypass scope', () => {
  let s: Stack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-trusted-'));
    writeAtomically(join(dir, 'manifest.json'), apolloManifest([LISTING, PRODUCT]));
    s = await startStack({
      ...AUTH_ENV,
      PORTICO_TRUSTED_DOCUMENTS_MODE: 'enforce',
      PORTICO_TRUSTED_DOCUMENTS_FILE: join(dir, 'manifest.json'),
      PORTICO_TRUSTED_DOCUMENTS_BYPASS_SCOPE: BYPASS_SCOPE,
    });
  });
  afterAll(async () => {
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    for (const m of Object.values(s.mocks.mocks)) m.resetStats();
  });

  it('runs a listed operation sent by id: extensions.persistedQuery, documentId, sha256:-prefixed documentId, GET', async () => {
    const byHash = await post(s, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(LISTING) } } }, { 'x-request-id': 'td-listed' });
    expect(byHash.status).toBe(200);
    expect(byHash.body.errors).toBeUndefined();
    expect(byHash.body.data.products).toHaveLength(2);
    const byDocumentId = await post(s, { documentId: sha256(PRODUCT), variables: { id: '3' } });
    expect(byDocumentId.body).toEqual({ data: { product: { id: '3', name: expect.any(String) } } });
    const prefixed = await post(s, { documentId: `sha256:${sha256(PRODUCT)}`, variables: { id: '4' } });
    expect(prefixed.body.data.product.id).toBe('4');
    const extensions = encodeURIComponent(JSON.stringify({ persistedQuery: { version: 1, sha256Hash: sha256(LISTING) } }));
    const get = await fetch(`${s.gw.graphqlUrl}?extensions=${extensions}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(get.status).toBe(200);
    expect(((await get.json()) as Answer['body']).data.products).toHaveLength(2);
    const line = await until('the access line', () => s.gw.logs.find((l) => l.event === 'access' && l.requestId === 'td-listed')[0]);
    expect(line.trustedDocument).toBe('listed');
  });

  it('runs a listed operation sent as text, exactly or formatted differently', async () => {
    expect((await post(s, { query: LISTING })).body.errors).toBeUndefined();
    const reformatted = `# the listing\nquery Listing {\n  products(first: 2) {\n    id, name\n    price { amount }\n  }\n}\n`;
    const r = await post(s, { query: reformatted });
    expect(r.status).toBe(200);
    expect(r.body.data.products).toHaveLength(2);
  });

  it('refuses an unlisted operation: 400 PERSISTED_QUERY_NOT_IN_LIST, no subgraph called', async () => {
    const r = await post(s, { query: UNLISTED }, { 'x-request-id': 'td-refused' });
    expect(r.status).toBe(400);
    expect(r.body.data).toBeUndefined();
    expect(code(r)).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(subgraphCalls(s)).toBe(0);
    const line = await until('the access line', () => s.gw.logs.find((l) => l.event === 'access' && l.requestId === 'td-refused')[0]);
    expect(line).toMatchObject({ status: 400, trustedDocument: 'refused' });
    // A token without the bypass scope changes nothing.
    expect(code(await post(s, { query: UNLISTED }, await bearer(['review:write'])))).toBe('PERSISTED_QUERY_NOT_IN_LIST');
  });

  it('refuses an unknown documentId (there is no text to run) with a bounded message', async () => {
    const r = await post(s, { documentId: `x${'y'.repeat(10_000)}` });
    expect(r.status).toBe(400);
    expect(code(r)).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(JSON.stringify(r.body).length).toBeLessThan(1_000);
  });

  it('APQ of a listed operation works; APQ registration of an unlisted one is refused and registers nothing', async () => {
    const listedHash = sha256(LISTING);
    expect((await post(s, { query: LISTING, extensions: { persistedQuery: { version: 1, sha256Hash: listedHash } } })).status).toBe(200);
    expect((await post(s, { extensions: { persistedQuery: { version: 1, sha256Hash: listedHash } } })).body.data.products).toHaveLength(2);
    const callsBefore = subgraphCalls(s);

    const hash = sha256(UNLISTED);
    const register = await post(s, { query: UNLISTED, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
    expect(register.status).toBe(400);
    expect(code(register)).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    // Not registered: the APQ cache does not know the hash.
    const lookup = await post(s, { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
    expect(code(lookup)).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(subgraphCalls(s)).toBe(callsBefore);
  });

  it('a developer token with the bypass scope runs anything (Sandbox: introspection, ad-hoc queries, APQ)', async () => {
    const dev = await bearer([BYPASS_SCOPE]);
    const adhoc = await post(s, { query: UNLISTED }, { ...dev, 'x-request-id': 'td-bypass' });
    expect(adhoc.status).toBe(200);
    expect(adhoc.body.data.products[0].inventory.quantity).toEqual(expect.any(Number));
    const line = await until('the access line', () => s.gw.logs.find((l) => l.event === 'access' && l.requestId === 'td-bypass')[0]);
    expect(line.trustedDocument).toBe('bypass');
    const introspection = await post(s, { query: getIntrospectionQuery() }, dev);
    expect(introspection.status).toBe(200);
    expect(introspection.body.data.__schema.queryType.name).toBe('Query');
    expect(code(await post(s, { query: getIntrospectionQuery() }))).toBe('PERSISTED_QUERY_NOT_IN_LIST');
  });

  it('a document a developer registered through APQ stays unlisted for everyone else', async () => {
    const text = '{ products(first: 1) { id category } }';
    const hash = sha256(text);
    const dev = await bearer([BYPASS_SCOPE]);
    expect((await post(s, { query: text, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }, dev)).status).toBe(200);
    // The APQ cache now holds it: the developer can use the hash...
    expect((await post(s, { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }, dev)).status).toBe(200);
    // ...and an app without the scope still cannot.
    const other = await post(s, { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
    expect(other.status).toBe(400);
    expect(code(other)).toBe('PERSISTED_QUERY_NOT_IN_LIST');
  });

  it('counts outcomes and the list size on /metrics', async () => {
    const f = await scrape(s.gw.opsUrl);
    expect(sampleValue(f, 'portico_trusted_documents_operations')).toBe(2);
    expect(sampleValue(f, 'portico_trusted_documents_loads_total', { outcome: 'success' })).toBe(1);
    for (const outcome of ['listed', 'refused', 'bypass']) {
      expect(sampleValue(f, 'portico_trusted_documents_requests_total', { outcome }), outcome).toBeGreaterThan(0);
    }
    expect(sampleValue(f, 'portico_graphql_errors_total', { code: 'PERSISTED_QUERY_NOT_IN_LIST' })).toBeGreaterThan(0);
  });
});

describe('log mode, Relay manifest from a file, hot reload', () => {
  let s: Stack;
  let dir: string;
  let path: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-trusted-'));
    path = join(dir, 'persisted_queries.json');
    writeAtomically(path, JSON.stringify({ listing1: LISTING, product1: PRODUCT }));
    s = await startStack({ PORTICO_TRUSTED_DOCUMENTS_MODE: 'log', PORTICO_TRUSTED_DOCUMENTS_FILE: path });
  });
  afterAll(async () => {
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs listed operations by Relay id', async () => {
    const r = await post(s, { documentId: 'product1', variables: { id: '7' } });
    expect(r.body).toEqual({ data: { product: { id: '7', name: expect.any(String) } } });
  });

  it('runs unlisted operations, APQ included, and counts them', async () => {
    const r = await post(s, { query: UNLISTED }, { 'x-request-id': 'td-unlisted' });
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    const line = await until('the access line', () => s.gw.logs.find((l) => l.event === 'access' && l.requestId === 'td-unlisted')[0]);
    expect(line.trustedDocument).toBe('unlisted');
    const hash = sha256(UNLISTED);
    expect(code(await post(s, { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }))).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await post(s, { query: UNLISTED, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } })).status).toBe(200);
    expect((await post(s, { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } })).body.data.products).toHaveLength(1);
    const f = await scrape(s.gw.opsUrl);
    expect(sampleValue(f, 'portico_trusted_documents_requests_total', { outcome: 'unlisted' })).toBeGreaterThanOrEqual(3);
    // Nothing is refused in log mode, except an id that names nothing at all.
    expect(code(await post(s, { documentId: 'nope' }))).toBe('PERSISTED_QUERY_NOT_IN_LIST');
  });

  it('picks up a new list when the file changes, and keeps the last good one when the new file is broken', async () => {
    expect(code(await post(s, { documentId: 'unlisted1' }))).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    writeAtomically(path, JSON.stringify({ listing1: LISTING, product1: PRODUCT, unlisted1: UNLISTED }));
    await until('the new list', async () => (await post(s, { documentId: 'unlisted1' })).status === 200);

    writeAtomically(path, '{ "listing1": ');
    await until('the rejected reload', async () => sampleValue(await scrape(s.gw.opsUrl), 'portico_trusted_documents_loads_total', { outcome: 'failure' }) === 1);
    expect((await post(s, { documentId: 'unlisted1' })).status).toBe(200);
    expect(s.gw.logs.find((l) => l.event === 'trusted_documents_load' && l.outcome === 'failure')[0]?.reason).toMatch(/invalid manifest: not JSON/);
    const f = await scrape(s.gw.opsUrl);
    expect(sampleValue(f, 'portico_trusted_documents_operations')).toBe(3);
  });
});

describe('a manifest served at a URL, polled', () => {
  let s: Stack;
  let server: Server;
  let manifest = apolloManifest([LISTING]);
  const conditional: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const etag = `"${sha256(manifest).slice(0, 16)}"`;
      if (req.headers['if-none-match'] !== undefined) conditional.push(String(req.headers['if-none-match']));
      if (req.headers['if-none-match'] === etag) return void res.writeHead(304).end();
      res.writeHead(200, { 'content-type': 'application/json', etag }).end(manifest);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/manifest.json`;
    s = await startStack({ PORTICO_TRUSTED_DOCUMENTS_MODE: 'enforce', PORTICO_TRUSTED_DOCUMENTS_URL: url, PORTICO_TRUSTED_DOCUMENTS_POLL_MS: '1000' });
  });
  afterAll(async () => {
    await s?.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('serves the list fetched at start, revalidates it with If-None-Match, and picks up a new one', async () => {
    expect((await post(s, { query: LISTING })).status).toBe(200);
    expect(code(await post(s, { query: PRODUCT, variables: { id: '1' } }))).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    await until('a conditional poll', () => conditional.length > 0, 5_000);
    manifest = apolloManifest([LISTING, PRODUCT]);
    await until('the new list', async () => (await post(s, { query: PRODUCT, variables: { id: '1' } })).status === 200, 5_000);
  });
});

describe('a list that cannot be loaded at start', () => {
  it('stops the start, naming the variable', async () => {
    await expect(startStack({ PORTICO_TRUSTED_DOCUMENTS_MODE: 'enforce', PORTICO_TRUSTED_DOCUMENTS_FILE: join(tmpdir(), 'portico-no-such-manifest.json') })).rejects.toThrow(
      /cannot load the trusted documents list from .*portico-no-such-manifest\.json: cannot read .*ENOENT.*PORTICO_TRUSTED_DOCUMENTS_FILE/,
    );
  });
});
