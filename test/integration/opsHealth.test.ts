import { mkdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthReport } from '../../src/health/report.ts';
import { dumpDom, screenshot } from '../helpers/chromium.ts';
import { startStack, type Stack } from '../helpers/portico.ts';
import { until } from '../../devkit/wait.ts';

const PAGE = `query Page($first: Int) { products(first: $first) { id name price { amount } inventory { inStock } } }`;
/** Where the status page screenshot goes (gitignored); CI keeps it as an artifact. */
const SCREENSHOT = 'test-artifacts/status.png';

async function health(s: Stack): Promise<HealthReport> {
  const res = await fetch(`${s.gw.opsUrl}/health/subgraphs`);
  expect(res.status).toBe(200);
  return (await res.json()) as HealthReport;
}

function pricingBreaker(h: HealthReport) {
  return h.subgraphs.find((x) => x.name === 'pricing')?.breakers.find((b) => b.key === 'pricing:Product');
}

/** Sends a request per poll until the ops view shows `state` for pricing:Product. */
async function untilPricing(s: Stack, state: string, what: string) {
  let i = 0;
  return until(what, async () => {
    await s.gql(PAGE, { first: 1 + (i++ % 20) });
    const h = await health(s);
    return pricingBreaker(h)?.state === state ? h : undefined;
  });
}

describe('/health/subgraphs follows a breaker open and closed again', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({
      PORTICO_BREAKER_VOLUME_THRESHOLD: '5',
      PORTICO_BREAKER_WINDOW_MS: '1000',
      PORTICO_BREAKER_RESET_MS: '1000',
      PORTICO_RATE_LIMITS: 'anonymous=1000000/1m',
    });
  });
  afterAll(() => s?.stop());

  it('pricing refused: its breaker opens, stats and last error say why, readiness says degraded but stays ready', async () => {
    expect(pricingBreaker(await health(s))).toBeUndefined(); // not called yet
    expect((await health(s)).subgraphs.map((x) => x.name)).toEqual(['inventory', 'pricing', 'product', 'review']);

    s.mocks.mocks.pricing.faults.set({ mode: 'refuse' });
    const h = await untilPricing(s, 'open', 'pricing:Product to open');
    const pricing = h.subgraphs.find((x) => x.name === 'pricing')!;
    expect(pricing.state).toBe('open');
    expect(pricingBreaker(h)!.openedAt).toEqual(expect.any(String));
    expect(pricing.windows['1m'].errors).toBeGreaterThanOrEqual(5);
    expect(pricing.windows['1m'].errorRate).toBeGreaterThan(0.5);
    expect(pricing.lastError).toMatchObject({ key: 'pricing:Product', outcome: 'connection', reason: expect.stringMatching(/^connection (reset|refused|failed)$/) });
    const product = h.subgraphs.find((x) => x.name === 'product')!;
    expect(product).toMatchObject({ state: 'closed', lastError: null });
    expect(product.windows['1m'].latencyMs!.p99).toBeGreaterThan(0);
    expect(h.gateway).toMatchObject({ lifecycle: 'ready', ready: true, status: 'degraded', supergraph: { hash: expect.stringMatching(/^[0-9a-f]{16}$/) } });
    expect(h.gateway.reasons).toContain('breaker pricing:Product is open');
    // The ops view names no subgraph URL or address.
    expect(JSON.stringify(h)).not.toMatch(/https?:\/\/|127\.0\.0\.1|localhost|ECONN/);

    const ready = await fetch(`${s.gw.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'degraded', reasons: ['breaker pricing:Product is open'] });
  });

  it('pricing back: the half-open probe succeeds and the breaker closes', async () => {
    s.mocks.mocks.pricing.faults.reset();
    const h = await untilPricing(s, 'closed', 'pricing:Product to close');
    expect(h.gateway.status).toBe('ready');
    expect(await (await fetch(`${s.gw.url}/health/ready`)).json()).toEqual({ status: 'ready', reasons: [] });
  });
});

describe('/status page in a real browser', () => {
  let s: Stack;
  beforeAll(async () => {
    // A long reset keeps the breaker open while the browser looks.
    s = await startStack({ PORTICO_BREAKER_VOLUME_THRESHOLD: '3', PORTICO_BREAKER_RESET_MS: '120000', PORTICO_RATE_LIMITS: 'anonymous=1000000/1m' });
  });
  afterAll(() => s?.stop());

  it('shows the pricing row open after pricing is refused, the others closed', async () => {
    s.mocks.mocks.pricing.faults.set({ mode: 'refuse' });
    await untilPricing(s, 'open', 'pricing:Product to open');
    const res = await fetch(`${s.gw.opsUrl}/status`);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);

    const dom = await dumpDom(`${s.gw.opsUrl}/status`);
    const rows = [...dom.matchAll(/<tr data-subgraph="([^"]+)" data-key="([^"]+)" data-state="([^"]+)">/g)].map((m) => [m[1], m[2], m[3]]);
    expect(rows).toEqual([
      ['inventory', 'inventory:Product', 'closed'],
      ['pricing', 'pricing:Product', 'open'],
      ['product', 'product:Query.products', 'closed'],
      // Listed from the supergraph even though this page never asked it for anything.
      ['review', '(no calls yet)', 'closed'],
    ]);
    expect(dom).toMatch(/class="state st-open" title="open since [^"]+">open \d\d:\d\d:\d\d</);
    expect(dom).toMatch(/id="status" class="badge s-degraded">degraded: breaker pricing:Product is open</);
    expect(dom).toMatch(/pricing:Product: connection (reset|refused|failed)/);
    expect(dom).toMatch(/<div id="error" hidden/); // the fetch worked

    mkdirSync('test-artifacts', { recursive: true });
    await screenshot(`${s.gw.opsUrl}/status`, SCREENSHOT);
    expect(readFileSync(SCREENSHOT).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });
});
