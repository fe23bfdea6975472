import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { SpanStatusCode, TraceFlags, type SpanKind } from '@opentelemetry/api';
import { millisToHrTime, hrTimeDuration } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/index.ts';
import { randomHex } from '../../src/request/correlation.ts';
import { createSpanBatcher } from '../../src/tracing/batch.ts';
import { exportBody, OtlpSpanKind, otlpSpan, spanItems, unixNanos, type FinishedSpan } from '../../src/tracing/export.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlpReceiver.ts';

/**
 * Portico writes OTLP JSON itself (src/tracing/export.ts): what it writes must be what the SDK's
 * own JSON transformer writes for the same span, field for field, and the batcher must follow the
 * batch processor's rules (a batch at the size limit, a bounded queue, everything out on flush).
 */

const logger = createLogger({ level: 'silent' });

function finished(over: Partial<FinishedSpan> = {}): FinishedSpan {
  const startedAt = performance.now();
  return {
    name: 'subgraph fetch',
    kind: OtlpSpanKind.CLIENT,
    traceId: randomHex(16),
    spanId: randomHex(8),
    parentSpanId: randomHex(8),
    startedAt,
    endedAt: startedAt + 12.345678,
    attributes: { 'portico.subgraph': 'pri"cing\n', 'portico.retry': 2, 'portico.ratio': 0.25, 'portico.cache.hit': false, 'portico.unset': undefined },
    error: 'SUBGRAPH_TIMEOUT',
    links: [`00-${randomHex(16)}-${randomHex(8)}-01`],
    ...over,
  };
}

/** One resource object: the SDK groups spans by resource identity. */
const RESOURCE = resourceFromAttributes({ 'service.name': 'unit' });

/** The same span as the SDK sees it, for its transformer. */
function sdkSpan(s: FinishedSpan): ReadableSpan {
  const startTime = millisToHrTime(performance.timeOrigin + s.startedAt);
  const endTime = millisToHrTime(performance.timeOrigin + s.endedAt);
  const attributes = Object.fromEntries(Object.entries(s.attributes).filter(([, v]) => v !== undefined)) as Record<string, string | number | boolean>;
  return {
    name: s.name,
    kind: (s.kind - 1) as SpanKind,
    spanContext: () => ({ traceId: s.traceId, spanId: s.spanId, traceFlags: TraceFlags.SAMPLED }),
    parentSpanContext: s.parentSpanId ? { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: TraceFlags.SAMPLED } : undefined,
    startTime,
    endTime,
    duration: hrTimeDuration(startTime, endTime),
    status: s.error === undefined ? { code: SpanStatusCode.UNSET } : { code: SpanStatusCode.ERROR, message: s.error },
    attributes,
    links: (s.links ?? []).map((tp) => ({ context: { traceId: tp.slice(3, 35), spanId: tp.slice(36, 52), traceFlags: TraceFlags.SAMPLED } })),
    events: [],
    ended: true,
    resource: RESOURCE,
    instrumentationScope: { name: 'portico' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  } as unknown as ReadableSpan;
}

/** The fields a receiver reads, normalised (the SDK writes some defaults Portico leaves out). */
function essentials(span: Record<string, any>) {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId || undefined,
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: String(span.startTimeUnixNano),
    endTimeUnixNano: String(span.endTimeUnixNano),
    attributes: Object.fromEntries((span.attributes as { key: string; value: Record<string, unknown> }[]).map((a) => [a.key, a.value])),
    status: { code: span.status?.code ?? 0, ...(span.status?.message && { message: span.status.message }) },
    links: ((span.links ?? []) as { traceId: string; spanId: string }[]).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
  };
}

describe('OTLP JSON', () => {
  it("writes what the SDK's JSON transformer writes for the same spans: ids, parents, kinds, times, attributes, status, links", () => {
    const spans = [
      finished(),
      finished({ kind: OtlpSpanKind.SERVER, parentSpanId: undefined, error: undefined, links: undefined, name: 'POST /graphql', attributes: { 'http.response.status_code': 200, 'portico.degraded': true } }),
      finished({ kind: OtlpSpanKind.INTERNAL, name: 'graphql.plan', attributes: {}, error: undefined, links: [] }),
    ];
    // Two requests' items in one export, as the batcher sends them.
    const ours = JSON.parse(exportBody({ 'service.name': 'unit' }, [spanItems(spans.slice(0, 2).map(otlpSpan)), spanItems(spans.slice(2).map(otlpSpan))]).toString('utf8'));
    const sdk = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans.map(sdkSpan))!).toString('utf8'));
    expect(ours.resourceSpans[0].resource.attributes).toEqual(sdk.resourceSpans[0].resource.attributes.filter((a: { key: string }) => a.key === 'service.name'));
    expect(ours.resourceSpans[0].scopeSpans[0].scope.name).toBe('portico');
    const o = ours.resourceSpans[0].scopeSpans[0].spans.map(essentials);
    const s = sdk.resourceSpans[0].scopeSpans[0].spans.map(essentials);
    expect(o).toHaveLength(3);
    for (let i = 0; i < o.length; i++) {
      // Times agree to the microsecond (the SDK rounds through an [s, ns] pair).
      expect(Math.abs(Number(BigInt(o[i].startTimeUnixNano) - BigInt(s[i].startTimeUnixNano)))).toBeLessThan(1_000);
      expect(Math.abs(Number(BigInt(o[i].endTimeUnixNano) - BigInt(s[i].endTimeUnixNano)))).toBeLessThan(1_000);
      expect({ ...o[i], startTimeUnixNano: 0, endTimeUnixNano: 0 }).toEqual({ ...s[i], startTimeUnixNano: 0, endTimeUnixNano: 0 });
    }
    expect(o[0].attributes['portico.subgraph']).toEqual({ stringValue: 'pri"cing\n' });
    expect(o[0].attributes['portico.unset']).toBeUndefined();
  });

  it('times are Unix nanoseconds, end never before start', () => {
    const t = performance.now();
    const ns = BigInt(unixNanos(t));
    const wall = BigInt(Math.round((performance.timeOrigin + t) * 1e3)) * 1_000n;
    expect(ns > wall - 2_000n && ns < wall + 2_000n).toBe(true);
    const s = otlpSpan(finished({ startedAt: t, endedAt: t - 5 }));
    expect(s.endTimeUnixNano).toBe(s.startTimeUnixNano);
  });
});

describe('batcher', () => {
  let otlp: OtlpReceiver;
  beforeAll(async () => {
    otlp = await startOtlpReceiver();
  });
  afterAll(() => otlp.stop());

  it('sends a batch as soon as it holds the batch size, keeps at most the queue size, and sends the rest on flush', async () => {
    const b = createSpanBatcher({ endpoint: `${otlp.url}/v1/traces`, headers: {}, resource: { 'service.name': 'unit' }, timeoutMs: 5_000, maxBatch: 4, maxQueue: 6, delayMs: 60_000 }, logger);
    const some = (n: number) => spanItems(Array.from({ length: n }, () => otlpSpan(finished())));
    b.add(some(2), 2);
    b.add(some(2), 2); // 4: sent at once
    await expect.poll(() => otlp.requests.length, { timeout: 5_000 }).toBe(1);
    expect(otlp.spans).toHaveLength(4);
    b.add(some(3), 3);
    b.add(some(1), 1); // 4 again: sent
    await expect.poll(() => otlp.spans.length, { timeout: 5_000 }).toBe(8);
    b.add(some(1), 1);
    await b.flush();
    expect(otlp.spans).toHaveLength(9);
    expect(otlp.requests.every((r) => r.contentType === 'application/json')).toBe(true);
    expect(b.dropped).toBe(0);
    await b.shutdown();
  });

  it('drops (and counts) what does not fit while the receiver is away, and never holds the caller', async () => {
    // Nothing listens on this port once the receiver below stops.
    const gone = await startOtlpReceiver();
    await gone.stop();
    const b = createSpanBatcher({ endpoint: `${gone.url}/v1/traces`, headers: {}, resource: { 'service.name': 'unit' }, timeoutMs: 1_000, maxBatch: 100, maxQueue: 5, delayMs: 60_000 }, logger);
    for (let i = 0; i < 8; i++) b.add(spanItems([otlpSpan(finished())]), 1);
    expect(b.dropped).toBe(3);
    await b.shutdown();
  });
});
