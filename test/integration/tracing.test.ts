import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PRODUCT_PAGE, startStack, type Stack } from '../helpers/portico.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlpReceiver.ts';

/**
 * OpenTelemetry traces, end to end: a real gateway exports over OTLP/HTTP to a real receiver
 * (test/helpers/otlpReceiver.ts), and real mock subgraphs on port 0 record the `traceparent`
 * each call carried. The subgraph's parent must be the gateway's fetch span, in the client's trace.
 */

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');

function incomingTraceparents(s: Stack, subgraph: 'product' | 'pricing' | 'inventory' | 'review'): string[] {
  return s.mocks.mocks[subgraph].stats().recentHeaders.map((h) => String(h['traceparent']));
}

describe('OTLP traces, every request sampled', () => {
  let s: Stack;
  let otlp: OtlpReceiver;
  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    s = await startStack({ PORTICO_OTEL_ENABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, PORTICO_OTEL_SAMPLE_RATIO: '1', OTEL_SERVICE_NAME: 'portico-test' });
  });
  afterAll(async () => {
    await s?.stop();
    await otlp?.stop();
  });
  beforeEach(() => {
    for (const m of Object.values(s.mocks.mocks)) {
      m.faults.reset();
      m.resetStats();
    }
    otlp.spans.length = 0;
  });

  it("a product page is one trace: request → parse / validate / plan / a fetch span per subgraph, each subgraph call's traceparent names its fetch span", async () => {
    const r = await s.gql(PRODUCT_PAGE, { first: 3 }, { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` });
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    await s.gw.portico.parts.tracing!.flush();

    const spans = otlp.spans.filter((x) => x.traceId === CLIENT_TRACE);
    expect(otlp.requests[0]?.contentType).toMatch(/json/);
    const request = spans.find((x) => x.name === 'POST /graphql')!;
    expect(request).toBeDefined();
    expect(request.serviceName).toBe('portico-test');
    // The client's span is the request span's parent; our span id is the one logs and x-request-id correlate with.
    expect(request.parentSpanId).toBe(CLIENT_SPAN);
    expect(request.attributes['http.response.status_code']).toBe(200);
    expect(request.attributes['graphql.operation.name']).toBe('ProductPage');
    for (const stage of ['graphql.parse', 'graphql.validate', 'graphql.plan']) {
      const st = spans.find((x) => x.name === stage);
      expect(st, stage).toBeDefined();
      expect(st!.parentSpanId).toBe(request.spanId);
    }
    const fetches = spans.filter((x) => x.name === 'subgraph fetch');
    expect(new Set(fetches.map((f) => f.attributes['portico.subgraph']))).toEqual(new Set(['product', 'pricing', 'inventory', 'review']));
    for (const f of fetches) {
      expect(f.parentSpanId).toBe(request.spanId);
      expect(f.attributes['portico.breaker.key']).toMatch(new RegExp(`^${String(f.attributes['portico.subgraph'])}:`));
      expect(f.attributes['portico.breaker.state']).toBe('closed');
      expect(['leader', 'follower']).toContain(f.attributes['portico.dedup']);
      expect(f.status.code ?? 0).not.toBe(2);
    }
    // The subgraphs join the trace: each call's parent is the gateway's fetch span for it.
    for (const name of ['product', 'pricing', 'inventory', 'review'] as const) {
      const seen = incomingTraceparents(s, name);
      expect(seen.length, name).toBeGreaterThan(0);
      for (const tp of seen) {
        const [, traceId, parentId, flags] = tp.split('-');
        expect(traceId).toBe(CLIENT_TRACE);
        expect(flags).toBe('01');
        const parent = fetches.find((f) => f.spanId === parentId);
        expect(parent, `${name}'s traceparent ${tp} names a fetch span`).toBeDefined();
        expect(parent!.attributes['portico.subgraph']).toBe(name);
      }
    }
  });

  it('a failing subgraph: its fetch span is an error with the code, degraded, the breaker key, and the request says degraded', async () => {
    s.mocks.mocks.pricing.faults.set({ mode: 'refuse' });
    const trace = hex(32);
    const r = await s.gql(PRODUCT_PAGE, { first: 2 }, { traceparent: `00-${trace}-${hex(16)}-01` });
    expect(r.status).toBe(200);
    await s.gw.portico.parts.tracing!.flush();
    const spans = otlp.spans.filter((x) => x.traceId === trace);
    const pricing = spans.find((x) => x.name === 'subgraph fetch' && x.attributes['portico.subgraph'] === 'pricing')!;
    expect(pricing.status.code).toBe(2); // ERROR
    expect(pricing.attributes['portico.degraded']).toBe(true);
    expect(pricing.attributes['portico.failure']).toBe('connection');
    expect(pricing.attributes['portico.error_code']).toBe(r.body.extensions?.degraded?.[0]?.code ?? 'SUBGRAPH_UNAVAILABLE');
    const request = spans.find((x) => x.name === 'POST /graphql')!;
    expect(request.attributes['portico.degraded']).toBe(true);
  });
});

describe('OTLP traces at sampling ratio 0', () => {
  let s: Stack;
  let otlp: OtlpReceiver;
  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    s = await startStack({ PORTICO_OTEL_ENABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, PORTICO_OTEL_SAMPLE_RATIO: '0' });
  });
  afterAll(async () => {
    await s?.stop();
    await otlp?.stop();
  });

  it('a healthy request exports nothing and tells subgraphs "not sampled"; a degraded one is kept as its request span, with the id its subgraph calls carried', async () => {
    const healthy = await s.gql(PRODUCT_PAGE, { first: 2 });
    expect(healthy.status).toBe(200);
    await s.gw.portico.parts.tracing!.flush();
    expect(otlp.spans).toEqual([]);
    const seen = incomingTraceparents(s, 'pricing');
    expect(seen.length).toBeGreaterThan(0);
    for (const tp of seen) expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);

    s.mocks.mocks.inventory.faults.set({ httpStatus: 500, errorRate: 1 });
    s.mocks.mocks.inventory.resetStats();
    const degraded = await s.gql(PRODUCT_PAGE, { first: 2 });
    expect(degraded.body.extensions?.degraded?.length).toBeGreaterThan(0);
    await s.gw.portico.parts.tracing!.flush();
    const request = otlp.spans.find((x: ReceivedSpan) => x.name === 'POST /graphql')!;
    expect(request).toBeDefined();
    expect(request.attributes['portico.trace.kept']).toBe('degraded');
    expect(request.status.code).toBe(0);
    // Kept without having noted anything while it ran: the request span alone, naming what failed.
    expect(otlp.spans.filter((x) => x.traceId === request.traceId)).toHaveLength(1);
    expect(String(request.attributes['portico.degraded.subgraphs'])).toContain('inventory');
    expect(String(request.attributes['portico.degraded.codes'])).toMatch(/SUBGRAPH_/);
    // Its id is the parent every subgraph call of the request was given.
    const sent = incomingTraceparents(s, 'inventory');
    expect(sent.length).toBeGreaterThan(0);
    for (const tp of sent) expect(tp).toBe(`00-${request.traceId}-${request.spanId}-00`);
  });
});
