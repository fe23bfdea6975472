/**
 * The fault switch over real HTTP: every mode as a client (or a gateway) sees it, and the
 * control endpoints that must keep working while the subgraph is broken.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_FAULTS, FaultInputError, startAllMocks, startMock } from '../../subgraphs-mock/index.ts';
import type { RunningMock } from '../../subgraphs-mock/index.ts';
import { control, gql } from '../helpers/mockHttp.ts';

/** Bound for awaiting a condition on the mock's stats (ms). */
const WAIT_MS = 5_000;
const QUERY = '{ product(id: "1") { id name } }';

let mock: RunningMock;
beforeAll(async () => {
  mock = await startMock('product');
});
afterEach(() => {
  mock.faults.reset();
  mock.resetStats();
});
afterAll(async () => {
  await mock.stop();
});

describe('latency', () => {
  it('delays the answer by latencyMs', async () => {
    await control(mock, 'POST', '/faults', { latencyMs: 150 });
    const started = performance.now();
    const { status, body } = await gql(mock.url, QUERY);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145); // timer granularity slack
    expect(status).toBe(200);
    expect(body.data.product.id).toBe('1');
  });

  it('stops and counts an abort when the client leaves during the delay', async () => {
    mock.faults.set({ latencyMs: 30_000 });
    const ctrl = new AbortController();
    const pending = gql(mock.url, QUERY, undefined, { signal: ctrl.signal });
    await vi.waitFor(() => expect(mock.stats().inFlight).toBe(1), { timeout: WAIT_MS });
    ctrl.abort();
    await expect(pending).rejects.toThrow();
    await vi.waitFor(() => expect(mock.stats()).toMatchObject({ aborted: 1, inFlight: 0 }), { timeout: WAIT_MS });
    expect(mock.stats().graphqlRequests).toBe(0); // never executed
  });
});

describe('injected HTTP errors', () => {
  it('errorRate fails that fraction with httpStatus (default 500, JSON body)', async () => {
    await control(mock, 'POST', '/faults', { errorRate: 0.5 });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await gql(mock.url, QUERY));
    expect(results.map((r) => r.status)).toEqual([200, 500, 200, 500]);
    expect(results[1]?.contentType).toContain('application/json');
    expect(results[1]?.body).toEqual({ errors: [{ message: 'injected fault' }] });
    expect(mock.stats()).toMatchObject({ requests: 4, graphqlRequests: 2 });
  });

  it('httpStatus alone fails every request; 502 answers an HTML page', async () => {
    const set = await control(mock, 'POST', '/faults', { httpStatus: 502 });
    expect(set.body).toMatchObject({ httpStatus: 502, errorRate: 1 });
    for (let i = 0; i < 2; i++) {
      const r = await gql(mock.url, QUERY);
      expect(r.status).toBe(502);
      expect(r.contentType).toContain('text/html');
      expect(r.body).toBe('<html><body><h1>502 Bad Gateway</h1></body></html>');
    }
  });

  it('503 is HTML too; other statuses are JSON', async () => {
    mock.faults.set({ httpStatus: 503 });
    expect((await gql(mock.url, QUERY)).body).toContain('503 Service Unavailable');
    mock.faults.set({ httpStatus: 429 });
    const r = await gql(mock.url, QUERY);
    expect(r.status).toBe(429);
    expect(r.body.errors[0].message).toBe('injected fault');
  });
});

describe('hang', () => {
  it('never answers; the client abort is counted', async () => {
    await control(mock, 'POST', '/faults', { mode: 'hang' });
    const ctrl = new AbortController();
    const pending = gql(mock.url, QUERY, undefined, { signal: ctrl.signal, headers: { 'x-request-id': 'hung-1' } });
    await vi.waitFor(() => expect(mock.stats().inFlight).toBe(1), { timeout: WAIT_MS });
    expect(mock.stats().recentHeaders.at(-1)?.['x-request-id']).toBe('hung-1');
    // Control endpoints stay responsive while a request hangs.
    expect((await control(mock, 'GET', '/faults')).body.mode).toBe('hang');
    ctrl.abort();
    await expect(pending).rejects.toThrow();
    await vi.waitFor(() => expect(mock.stats()).toMatchObject({ aborted: 1, inFlight: 0, requests: 1 }), { timeout: WAIT_MS });
  });
});

describe('refuse', () => {
  it('resets the connection, keeps /faults reachable, and DELETE /faults restores service', async () => {
    await control(mock, 'POST', '/faults', { mode: 'refuse' });
    const err = await gql(mock.url, QUERY, undefined, { headers: { 'x-request-id': 'refused-1' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TypeError); // undici: "fetch failed"
    const cause = (err as { cause?: { code?: string } }).cause;
    expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(cause?.code);

    const stats = (await control(mock, 'GET', '/stats')).body;
    expect(stats).toMatchObject({ requests: 1, refused: 1, graphqlRequests: 0, inFlight: 0 });
    expect(stats.recentHeaders.at(-1)['x-request-id']).toBe('refused-1');

    expect((await control(mock, 'DELETE', '/faults')).body).toEqual(DEFAULT_FAULTS);
    expect((await gql(mock.url, QUERY)).body.data.product.id).toBe('1');
  });
});

describe('garbage', () => {
  it('answers 200 with truncated JSON', async () => {
    await control(mock, 'POST', '/faults', { mode: 'garbage' });
    const res = await fetch(mock.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: QUERY }),
      signal: AbortSignal.timeout(WAIT_MS),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    await expect(res.json()).rejects.toThrow(SyntaxError);
  });
});

describe('/faults input', () => {
  it('rejects bad settings with 400 and keeps the current ones', async () => {
    await control(mock, 'POST', '/faults', { latencyMs: 5 });
    const bad = await control(mock, 'POST', '/faults', { latencyMs: 'slow', errorRate: 3, mode: 'sideways' });
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toHaveLength(3);
    expect(bad.body.error).toMatch(/latencyMs must be an integer/);
    expect((await control(mock, 'POST', '/faults', '{not json')).status).toBe(400);
    expect((await control(mock, 'POST', '/faults', '[1]')).status).toBe(400);
    expect((await control(mock, 'PUT', '/faults', {})).status).toBe(405);
    expect((await control(mock, 'GET', '/faults')).body.latencyMs).toBe(5);
  });

  it('each POST describes the whole fault (merged onto defaults, not onto the current state)', async () => {
    await control(mock, 'POST', '/faults', { latencyMs: 50, mode: 'garbage' });
    expect((await control(mock, 'POST', '/faults', { errorRate: 0.1 })).body).toEqual({ ...DEFAULT_FAULTS, errorRate: 0.1 });
  });
});

describe('faults at start', () => {
  it('reads PORTICO_MOCK_<NAME>_FAULTS in startAllMocks', async () => {
    const all = await startAllMocks({
      ports: { product: 0, pricing: 0, inventory: 0, review: 0 },
      env: { PORTICO_MOCK_PRICING_FAULTS: '{"latencyMs":80}', PORTICO_MOCK_REVIEW_FAULTS: '{"httpStatus":503}' },
    });
    try {
      expect((await control(all.mocks.pricing, 'GET', '/faults')).body).toEqual({ ...DEFAULT_FAULTS, latencyMs: 80 });
      expect((await gql(all.mocks.review.url, '{ __typename }')).status).toBe(503);
      expect(all.mocks.product.faults.get()).toEqual(DEFAULT_FAULTS);
    } finally {
      await all.stop();
    }
  });

  it('fails fast on invalid env faults, binding nothing', async () => {
    await expect(
      startAllMocks({ ports: { product: 0, pricing: 0, inventory: 0, review: 0 }, env: { PORTICO_MOCK_INVENTORY_FAULTS: '{"mode":1}' } }),
    ).rejects.toThrow(FaultInputError);
  });

  it('accepts faults as a startMock option, and names mock and port when the port is taken', async () => {
    const slow = await startMock('inventory', { faults: { mode: 'hang' } });
    try {
      expect(slow.faults.get().mode).toBe('hang');
      await expect(startMock('pricing', { port: slow.port })).rejects.toThrow(`[pricing] mock could not listen on 127.0.0.1:${slow.port} (EADDRINUSE)`);
    } finally {
      await slow.stop();
    }
  });
});
