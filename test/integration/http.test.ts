import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/portico.ts';

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
});

describe('production mode', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ NODE_ENV: 'production' });
  });
  afterAll(() => s.stop());

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
});
