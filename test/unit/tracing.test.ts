import { context, createContextKey, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/index.ts';
import type { PorticoContext } from '../../src/request/context.ts';
import { randomHex } from '../../src/request/correlation.ts';
import { createRequestState } from '../../src/request/state.ts';
import { createTracing, type Tracing, type TracingOptions } from '../../src/tracing/index.ts';
import { ratioSampler } from '../../src/tracing/sampling.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlpReceiver.ts';

/**
 * Tracing's own rules, against a real OTLP/HTTP receiver: what an unsampled request costs (nothing
 * exported, nothing made per span when failures are not kept), the sampling decision, and that
 * nothing global (context manager, tracer provider) is installed for every async hop to pay for.
 */

const logger = createLogger({ level: 'silent' });
const headers = { 'content-type': 'application/json' };
let otlp: OtlpReceiver;
const open: Tracing[] = [];

beforeAll(async () => {
  otlp = await startOtlpReceiver();
});
afterAll(() => otlp.stop());
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.shutdown()));
  otlp.spans.length = 0;
});

function tracing(o: Partial<TracingOptions>): Tracing {
  const t = createTracing({ sampleRatio: 0.1, keepFailed: true, endpoint: `${otlp.url}/v1/traces`, headers: {}, serviceName: 'unit', ...o }, { logger });
  open.push(t);
  return t;
}

/** One request through the hooks a product page goes through: plan, four fetches, the finish. */
function request(t: Tracing, opts: { status?: number; degraded?: boolean; traceparent?: string } = {}): PorticoContext {
  const h = opts.traceparent ? { ...headers, traceparent: opts.traceparent } : headers;
  const { state } = createRequestState(h, logger);
  t.startRequest(state, h, 'POST', '/graphql');
  const plan = state.trace!.child('graphql.plan');
  plan.end();
  for (const subgraph of ['product', 'pricing', 'inventory', 'review']) {
    const span = state.trace!.child('subgraph fetch', { 'portico.subgraph': subgraph, 'portico.breaker.key': `${subgraph}:Product` });
    span.set('portico.dedup', 'leader');
    span.end(opts.degraded && subgraph === 'pricing' ? 'SUBGRAPH_UNAVAILABLE' : undefined);
  }
  if (opts.degraded) state.degraded.push({ service: 'pricing', key: 'pricing:Product', code: 'SUBGRAPH_UNAVAILABLE' } as never);
  t.onFinish({ state, method: 'POST', path: '/graphql', status: opts.status ?? 200, ms: 1 });
  return state;
}

describe('sampling', () => {
  it("decides as the SDK's trace-id ratio sampler does, for every ratio", () => {
    for (const ratio of [0, 0.001, 0.1, 0.5, 0.999, 1]) {
      const ours = ratioSampler(ratio);
      const sdk = new TraceIdRatioBasedSampler(ratio);
      let kept = 0;
      for (let i = 0; i < 5_000; i++) {
        const id = randomHex(16);
        const expected = sdk.shouldSample(ROOT_CONTEXT, id).decision === SamplingDecision.RECORD_AND_SAMPLED;
        expect(ours(id), `${ratio} ${id}`).toBe(expected);
        if (expected) kept++;
      }
      if (ratio === 0.1) expect(kept).toBeGreaterThan(350);
    }
  });

  it('at 10 %: exactly the sampled requests are exported (5 spans each), nothing of the healthy unsampled ones', async () => {
    const t = tracing({ sampleRatio: 0.1 });
    const sdk = new TraceIdRatioBasedSampler(0.1);
    const states = Array.from({ length: 300 }, () => request(t));
    await t.flush();
    const sampled = states.filter((s) => sdk.shouldSample(ROOT_CONTEXT, s.traceId).decision === SamplingDecision.RECORD_AND_SAMPLED);
    expect(sampled.length).toBeGreaterThan(0);
    expect(otlp.spans).toHaveLength(sampled.length * 6);
    expect(new Set(otlp.spans.map((s) => s.traceId))).toEqual(new Set(sampled.map((s) => s.traceId)));
    const one = otlp.spans.filter((s) => s.traceId === sampled[0]!.traceId);
    const root = one.find((s) => s.name === 'POST /graphql')!;
    expect(root.kind).toBe(2); // SERVER (OTLP's enum is the API's + 1)
    expect(root.spanId).toBe(sampled[0]!.traceparent.slice(36, 52));
    expect(root.attributes['http.response.status_code']).toBe(200);
    for (const s of one.filter((x) => x !== root)) expect(s.parentSpanId).toBe(root.spanId);
    const fetches = one.filter((s) => s.name === 'subgraph fetch');
    expect(fetches.map((f) => f.kind)).toEqual([3, 3, 3, 3]); // CLIENT
    expect(Number(BigInt(fetches[0]!.endTimeUnixNano) - BigInt(fetches[0]!.startTimeUnixNano))).toBeGreaterThanOrEqual(0);
  });

  it("follows the client's sampled flag either way", async () => {
    const t = tracing({ sampleRatio: 0 });
    const yes = request(t, { traceparent: `00-${randomHex(16)}-${randomHex(8)}-01` });
    const no = tracing({ sampleRatio: 1 });
    request(no, { traceparent: `00-${randomHex(16)}-${randomHex(8)}-00` });
    await t.flush();
    await no.flush();
    expect(new Set(otlp.spans.map((s) => s.traceId))).toEqual(new Set([yes.traceId]));
  });
});

describe('unsampled requests', () => {
  it('with failures not kept, every span of the request is one object that notes nothing, naming the request "not sampled"', async () => {
    const t = tracing({ sampleRatio: 0, keepFailed: false });
    const { state } = createRequestState(headers, logger);
    t.startRequest(state, headers, 'POST', '/graphql');
    const a = state.trace!.child('subgraph fetch', { 'portico.subgraph': 'pricing' });
    const b = state.trace!.child('graphql.plan');
    expect(a).toBe(b);
    expect(a.traceparent).toBe(`00-${state.traceId}-${state.traceparent.slice(36, 52)}-00`);
    request(t, { status: 502, degraded: true });
    await t.flush();
    expect(otlp.spans).toEqual([]);
  });

  it('with failures kept: nothing is noted while it runs; a healthy one exports nothing; a degraded or failed one its request span, naming what failed, with the id its subgraph calls carried', async () => {
    const t = tracing({ sampleRatio: 0, keepFailed: true });
    const { state } = createRequestState(headers, logger);
    t.startRequest(state, headers, 'POST', '/graphql');
    // Every child is one shared span that notes nothing: the request's own id, "not sampled".
    expect(state.trace!.child('graphql.plan')).toBe(state.trace!.child('subgraph fetch', { 'portico.subgraph': 'pricing' }));
    expect(state.trace!.child('graphql.plan').traceparent).toBe(`00-${state.traceId}-${state.traceparent.slice(36, 52)}-00`);
    request(t);
    await t.flush();
    expect(otlp.spans).toEqual([]);
    const degraded = request(t, { degraded: true });
    const failed = request(t, { status: 503 });
    await t.flush();
    const d = otlp.spans.filter((s) => s.traceId === degraded.traceId);
    expect(d).toHaveLength(1);
    expect(d[0]!.name).toBe('POST /graphql');
    expect(d[0]!.spanId).toBe(degraded.traceparent.slice(36, 52));
    expect(d[0]!.attributes).toMatchObject({
      'portico.trace.kept': 'degraded',
      'portico.degraded.subgraphs': 'pricing',
      'portico.degraded.breaker_keys': 'pricing:Product',
      'portico.degraded.codes': 'SUBGRAPH_UNAVAILABLE',
    });
    const f = otlp.spans.find((s) => s.traceId === failed.traceId && s.name === 'POST /graphql')!;
    expect(f.attributes['portico.trace.kept']).toBe('error');
    expect(f.status).toMatchObject({ code: 2, message: 'HTTP 503' });
  });
});

it('installs no global context manager or tracer provider: no async hop pays for tracing, Apollo\'s own spans stay no-ops', async () => {
  const t = tracing({ sampleRatio: 1 });
  request(t);
  await t.flush();
  expect(otlp.spans.length).toBeGreaterThan(0);
  const key = createContextKey('probe');
  // Without a context manager, `with` does not make its context active.
  expect(context.with(ROOT_CONTEXT.setValue(key, 1), () => context.active().getValue(key))).toBeUndefined();
  expect(trace.getTracer('any').startSpan('x').isRecording()).toBe(false);
});

it('a span links the traceparent it was given (a dedup follower to the leader\'s fetch)', async () => {
  const t = tracing({ sampleRatio: 1 });
  const { state } = createRequestState(headers, logger);
  t.startRequest(state, headers, 'POST', '/graphql');
  const leader = `00-${randomHex(16)}-${randomHex(8)}-01`;
  const span = state.trace!.child('subgraph fetch', { 'portico.subgraph': 'pricing' });
  span.set('portico.dedup', 'follower');
  span.link?.(leader);
  span.end();
  t.onFinish({ state, method: 'POST', path: '/graphql', status: 200, ms: 1 });
  await t.flush();
  const f = otlp.spans.find((s) => s.name === 'subgraph fetch')!;
  expect(f.links).toEqual([{ traceId: leader.slice(3, 35), spanId: leader.slice(36, 52) }]);
});
