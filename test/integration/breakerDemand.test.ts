import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sampleValue, scrape } from '../helpers/promText.ts';
import { startStack, type Stack } from '../helpers/portico.ts';
import { until } from '../../devkit/wait.ts';

// Default settings (timeouts, breaker thresholds, dedup on); only the anonymous quota is raised so
// the test measures breakers, not the rate limiter.
const PAGE = '{ products(first: 5) { id name price { amount currency } } }';

async function healthOf(s: Stack, subgraph: string) {
  const body = (await (await fetch(`${s.gw.opsUrl}/health/subgraphs`)).json()) as { subgraphs: { name: string; windows: { '1m': { requests: number; errors: number } } }[] };
  return body.subgraphs.find((x) => x.name === subgraph)!;
}

describe('breakers count demand, not only the calls sent', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ NODE_ENV: 'production', PORTICO_RATE_LIMITS: 'anonymous=1000000/1m' });
  });
  afterAll(() => s.stop());
  beforeEach(() => {
    for (const m of Object.values(s.mocks.mocks)) {
      m.faults.reset();
      m.resetStats();
    }
  });

  it('identical pages sharing one hung pricing call open its breaker on slow calls before the call times out; metrics, health and breaker agree', async () => {
    expect((await s.gql(PAGE)).status).toBe(200); // plan cached, pricing:Product exists
    s.mocks.mocks.pricing.faults.set({ mode: 'hang' });
    const started = performance.now();
    const pages = Array.from({ length: 30 }, () => s.gql(PAGE));
    const opened = await until('pricing:Product to open', () => {
      const b = s.gw.portico.parts.breakers.snapshot().find((x) => x.key === 'pricing:Product');
      return b?.state === 'open' ? { b, afterMs: performance.now() - started } : undefined;
    });
    // Opened on slow calls, while the one shared call was still in flight: not a timeout yet.
    expect(opened.b.openReason).toBe('slow_calls');
    expect(opened.b.window.failures).toBe(0);
    expect(opened.b.window.recent).toBeGreaterThanOrEqual(10);
    expect(opened.b.window.slow * 2).toBeGreaterThanOrEqual(opened.b.window.recent);
    // The warm-up page's call and one shared call for all 30 pages.
    expect(s.mocks.mocks.pricing.stats().requests).toBe(2);

    const answers = await Promise.all(pages);
    for (const r of answers) {
      expect(r.status).toBe(200);
      expect(r.body.data.products.every((p: { name: string; price: unknown }) => p.name && p.price === null)).toBe(true);
    }
    // After opening, new pages are answered without waiting, with the circuit-open code.
    const after = await s.gql(PAGE);
    expect(after.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['SUBGRAPH_CIRCUIT_OPEN']);

    // Every caller counted once everywhere: 30 timeouts (29 of them shared), then 1 rejection.
    const f = await scrape(s.gw.opsUrl);
    const b = s.gw.portico.parts.breakers.snapshot().find((x) => x.key === 'pricing:Product')!;
    expect(sampleValue(f, 'portico_subgraph_requests_total', { subgraph: 'pricing', outcome: 'timeout' })).toBe(30);
    expect(sampleValue(f, 'portico_subgraph_dedup_total', { subgraph: 'pricing', outcome: 'timeout' })).toBe(29);
    expect(sampleValue(f, 'portico_subgraph_requests_total', { subgraph: 'pricing', outcome: 'circuit_open' })).toBe(1);
    expect(b.window.failures).toBe(30);
    expect(b.window.rejects).toBe(1);
    const health = await healthOf(s, 'pricing');
    expect(health.windows['1m'].errors).toBe(b.window.failures + b.window.rejects);
    expect(opened.afterMs).toBeGreaterThan(0); // recorded, not asserted as a timing
  });

  it('GraphQL errors with HTTP 200 never open a breaker; a 50 MB answer and a body that never ends are cut off with a coded error', async () => {
    s.gw.portico.parts.breakers.force('pricing', 'auto');
    s.mocks.mocks.review.faults.set({ mode: 'graphql-error' });
    const q = '{ products(first: 3) { id name reviews(first: 1) { id } } }';
    for (let i = 0; i < 30; i++) {
      const r = await s.gql(q);
      expect(r.status).toBe(200);
      expect(r.body.data.products[0].name).toEqual(expect.any(String));
    }
    expect(s.gw.portico.parts.breakers.snapshot().filter((x) => x.subgraph === 'review').map((x) => x.state)).toEqual(['closed']);

    const rssBefore = process.memoryUsage().rss;
    // Declared (refused at the headers) and chunked (cut off once 16 MiB have arrived).
    for (const mode of ['huge', 'huge-chunked'] as const) {
      s.mocks.mocks.inventory.faults.set({ mode });
      const huge = await s.gql('{ products(first: 2) { id name inventory { quantity } } }');
      expect(huge.status).toBe(200);
      expect(huge.body.data.products[0].name).toEqual(expect.any(String));
      expect(huge.body.data.products[0].inventory).toBeNull();
      expect(huge.body.errors[0].extensions.code).toBe('SUBGRAPH_ERROR');
      expect(huge.body.errors[0].message).not.toMatch(/127\.0\.0\.1|http:/);
    }
    // The gateway read at most its 16 MiB limit, never the whole 50 MB.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(40 * 1_048_576);

    s.mocks.mocks.inventory.faults.set({ mode: 'endless' });
    const endless = await s.gql('{ products(first: 2) { id name inventory { quantity } } }');
    expect(endless.status).toBe(200);
    expect(endless.body.data.products[1].name).toEqual(expect.any(String));
    expect(endless.body.errors[0].extensions.code).toBe('SUBGRAPH_TIMEOUT');
    const lines = s.gw.logs.find((l) => l.event === 'subgraph_failure' && l.subgraph === 'inventory');
    expect(lines.map((l) => l.kind)).toEqual(['too_large', 'too_large', 'timeout']);
  });

  it('a client that goes away is logged and counted as such, with the time it really waited', async () => {
    s.mocks.mocks.pricing.faults.set({ mode: 'hang' });
    s.gw.portico.parts.breakers.force('pricing', 'closed');
    try {
      const ac = new AbortController();
      const page = fetch(s.gw.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: PAGE }), signal: ac.signal }).catch((e: unknown) => e);
      await until('the pricing call to start', () => s.mocks.mocks.pricing.stats().requests === 1, 5_000);
      ac.abort();
      await page;
      const line = await until('a client_gone line', () => s.gw.logs.find((l) => l.event === 'client_gone')[0], 5_000);
      expect(line.subgraph).toBe('pricing');
      expect(line.elapsedMs as number).toBeLessThan(1_500);
      expect(s.gw.logs.find((l) => l.event === 'subgraph_failure' && l.kind === 'deadline')).toEqual([]);
      // The access log says the client went away (499, nginx's convention), not a 200 or a 5xx.
      const access = await until('the access line', () => s.gw.logs.find((l) => l.event === 'access' && l.status === 499)[0], 5_000);
      expect(access.durationMs as number).toBeLessThan(1_500);
      const f = await scrape(s.gw.opsUrl);
      expect(sampleValue(f, 'portico_subgraph_requests_total', { subgraph: 'pricing', outcome: 'client_gone' })).toBe(1);
    } finally {
      s.gw.portico.parts.breakers.force('pricing', 'auto');
    }
  });
});
