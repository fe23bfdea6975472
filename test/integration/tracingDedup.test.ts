import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlpReceiver.ts';
import { PRODUCT_PAGE, startStack, type Stack } from '../helpers/portico.ts';

/**
 * Tracing must not change what reaches the subgraphs (issue 19's overhead goal is measured on
 * identical product pages, where sharing is most of the saving): every subgraph call carries a
 * `traceparent`, per request and, when sampled, per fetch, and neither may enter the dedup key or
 * the cache key. Counted on real mock subgraphs, tracing off against on at 10 % and at 100 %.
 */

const SUBGRAPHS = ['product', 'pricing', 'inventory', 'review'] as const;
type Calls = Record<(typeof SUBGRAPHS)[number], number>;
const VARIANTS: Record<string, Record<string, string>> = {
  off: { PORTICO_OTEL_ENABLED: 'false' },
  '10 %': { PORTICO_OTEL_ENABLED: 'true', PORTICO_OTEL_SAMPLE_RATIO: '0.1' },
  '100 %': { PORTICO_OTEL_ENABLED: 'true', PORTICO_OTEL_SAMPLE_RATIO: '1' },
};

let s: Stack | undefined;
let otlp: OtlpReceiver | undefined;
afterEach(async () => {
  await s?.stop();
  await otlp?.stop();
  s = otlp = undefined;
});

async function stack(variant: string, cacheHints: boolean): Promise<Stack> {
  otlp = await startOtlpReceiver();
  s = await startStack({ ...VARIANTS[variant], OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, PORTICO_RATE_LIMIT_ENABLED: 'false', PORTICO_CACHE_TTLS: 'inventory=60' }, { cacheHints });
  return s;
}

const calls = (st: Stack): Calls => Object.fromEntries(SUBGRAPHS.map((n) => [n, st.mocks.mocks[n].stats().requests])) as Calls;

describe('tracing leaves subgraph dedup and the entity cache as they are', () => {
  it('20 identical concurrent product pages make the same subgraph calls with tracing off, on at 10 % and at 100 %', async () => {
    const seen: Record<string, Calls> = {};
    for (const variant of Object.keys(VARIANTS)) {
      const st = await stack(variant, false);
      // Slow enough that all twenty pages are in flight while the first calls are.
      for (const n of SUBGRAPHS) st.mocks.mocks[n].faults.set({ latencyMs: 200 });
      const pages = await Promise.all(Array.from({ length: 20 }, () => st.gql(PRODUCT_PAGE, { first: 5 })));
      expect(pages.every((p) => p.status === 200 && p.body.errors === undefined)).toBe(true);
      expect(new Set(pages.map((p) => JSON.stringify(p.body.data))).size).toBe(1);
      seen[variant] = calls(st);
      if (variant === '100 %') {
        // Followers sent nothing: their fetch spans link the leader's, which the subgraph saw as parent.
        await st.gw.portico.parts.tracing!.flush();
        const fetches = otlp!.spans.filter((x) => x.name === 'subgraph fetch');
        const followers = fetches.filter((f) => f.attributes['portico.dedup'] === 'follower');
        expect(followers.length).toBeGreaterThan(0);
        const parents = new Set(st.mocks.mocks.pricing.stats().recentHeaders.map((h) => String(h['traceparent']).split('-')[2]));
        for (const f of followers.filter((x) => x.attributes['portico.subgraph'] === 'pricing')) {
          expect(f.links).toHaveLength(1);
          expect(parents.has(f.links[0]!.spanId)).toBe(true);
        }
      }
      await s!.stop();
      await otlp!.stop();
      s = otlp = undefined;
    }
    expect(seen['off']).toEqual({ product: 1, pricing: 1, inventory: 1, review: 1 });
    expect(seen['10 %']).toEqual(seen['off']);
    expect(seen['100 %']).toEqual(seen['off']);
  });

  it('an identical page after the first is answered from the cache as much with every request traced as with tracing off', async () => {
    const second: Record<string, number> = {};
    for (const variant of ['off', '100 %']) {
      const st = await stack(variant, true);
      const first = await st.gql(PRODUCT_PAGE, { first: 5 });
      expect(first.status).toBe(200);
      const before = calls(st);
      expect(before.pricing).toBeGreaterThan(0);
      await st.gql(PRODUCT_PAGE, { first: 5 });
      const after = calls(st);
      second[variant] = SUBGRAPHS.reduce((n, k) => n + after[k] - before[k], 0);
      await s!.stop();
      await otlp!.stop();
      s = otlp = undefined;
    }
    // The cache did answer some of it, and tracing changed none of that.
    expect(second['off']).toBeLessThan(4);
    expect(second['100 %']).toBe(second['off']);
  });
});
