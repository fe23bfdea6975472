import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../devkit/wait.ts';
import { dumpDom, screenshot } from '../helpers/chromium.ts';
import { PRODUCT_PAGE, startStack, type Stack } from '../helpers/portico.ts';

/**
 * The status page's pictures in a real headless Chromium during an injected outage: per
 * subgraph sparklines, the breaker timeline, the probe results, the supergraph served. History
 * is sampled every 200 ms here (PORTICO_STATUS_SAMPLE_MS) so a few seconds draw a line.
 */

const ARTIFACT = 'test-artifacts/status-outage.png';
/** Set PORTICO_UPDATE_DOCS_SCREENSHOT=1 to refresh the README's picture from this run. */
const DOCS_IMAGE = 'docs/images/status-outage.png';

interface StatusData {
  subgraphs: { name: string; points: number; paths: { rate: string; errorRate: string; p99: string } }[];
  breakers: { key: string; state: string; segments: { state: string }[] }[];
  probes: { name: string; last: { result: string } | null }[];
  supergraph: { hash: string } | null;
}

async function data(s: Stack): Promise<StatusData> {
  return (await (await fetch(`${s.gw.opsUrl}/status/data`)).json()) as StatusData;
}

describe('status page pictures during an outage (headless Chromium)', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({
      PORTICO_STATUS_SAMPLE_MS: '200',
      PORTICO_PROBES_ENABLED: 'true',
      PORTICO_PROBE_INTERVAL_MS: '300',
      PORTICO_BREAKER_VOLUME_THRESHOLD: '3',
      // Open for the whole test once opened: the browser must see it.
      PORTICO_BREAKER_RESET_MS: '120000',
      PORTICO_SUBGRAPH_TIMEOUT_MS: '300',
      PORTICO_RATE_LIMITS: 'anonymous=1000000/1m',
    });
  });
  afterAll(() => s?.stop());

  it('draws sparklines per subgraph, the pricing breaker going open on its timeline, the probe degraded, the supergraph served', async () => {
    // Healthy traffic first, so the lines have a before.
    for (let i = 0; i < 10; i++) await s.gql(PRODUCT_PAGE, { first: 2 + (i % 3) });
    await until('a few history points', async () => ((await data(s)).subgraphs.find((g) => g.name === 'pricing')?.points ?? 0) >= 3);
    s.mocks.mocks.pricing.faults.set({ mode: 'refuse' });
    await until('pricing breaker open', async () => {
      await s.gql(PRODUCT_PAGE, { first: 2 });
      return (await data(s)).breakers.find((b) => b.key.startsWith('pricing:'))?.state === 'open';
    });
    await until('probe degraded and the outage sampled', async () => {
      const d = await data(s);
      return d.probes[0]?.last?.result === 'degraded' && d.subgraphs.find((g) => g.name === 'pricing')?.paths.errorRate.includes('L') ? d : undefined;
    });

    const res = await fetch(`${s.gw.opsUrl}/status`);
    const html = await res.text();
    // Self-contained: nothing loaded from anywhere (no src/href to another origin, strict CSP).
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(html).toMatch(/<meta name="viewport" content="width=device-width/);

    const dom = await dumpDom(`${s.gw.opsUrl}/status`);
    // A card per subgraph with three drawn sparklines.
    const cards = [...dom.matchAll(/<div class="card( hurting)?" data-subgraph="([^"]+)">/g)].map((m) => [m[2], Boolean(m[1])]);
    expect(cards).toEqual(expect.arrayContaining([['pricing', true], ['product', false], ['inventory', false], ['review', false]]));
    const paths = [...dom.matchAll(/<path d="(M[^"]+)" data-series="(rate|errorRate|p99)"/g)];
    expect(paths.length).toBeGreaterThanOrEqual(4 * 2);
    for (const series of ['rate', 'errorRate', 'p99']) expect(paths.some((m) => m[2] === series && m[1]!.includes('L')), series).toBe(true);
    // The breaker timeline: pricing's key is open now, and its bar ends in an open segment after a closed one.
    const row = /<div class="tl-row" data-key="(pricing:[^"]+)" data-state="open">(.*?)<\/svg><\/div>/.exec(dom);
    expect(row, 'a timeline row for the open pricing breaker').not.toBeNull();
    const segs = [...row![2]!.matchAll(/data-state="([a-z-]+)"/g)].map((m) => m[1]);
    expect(segs.at(-1)).toBe('open');
    expect(segs).toContain('closed');
    expect(dom).toMatch(/<div class="tl-row" data-key="product:[^"]+" data-state="closed">/);
    // The probe: degraded, naming pricing.
    expect(dom).toMatch(/<div class="probe" data-probe="product-page" data-result="degraded">.*missing: pricing/);
    // The supergraph served.
    const d = await data(s);
    expect(d.supergraph?.hash).toMatch(/\w{8,}/);
    expect(dom).toContain(`<p id="served" class="muted">${d.supergraph!.hash} since `);
    expect(dom).toMatch(/<div id="error" hidden/);

    mkdirSync('test-artifacts', { recursive: true });
    await screenshot(`${s.gw.opsUrl}/status`, ARTIFACT, { width: 1_100, height: 1_250 });
    const png = readFileSync(ARTIFACT);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // Phone-sized too: the same page at 390 px wide renders (no horizontal page scroll is asserted in the DOM: the table scrolls in its box).
    await screenshot(`${s.gw.opsUrl}/status`, 'test-artifacts/status-outage-phone.png', { width: 390, height: 1_400 });
    if (process.env.PORTICO_UPDATE_DOCS_SCREENSHOT === '1') {
      mkdirSync('docs/images', { recursive: true });
      copyFileSync(ARTIFACT, DOCS_IMAGE);
    }
  });
});
