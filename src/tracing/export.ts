import type { TraceAttributes } from '../request/context.ts';

/**
 * Finished spans in OTLP's JSON encoding (the OTLP/HTTP spec's `application/json`: ids as hex,
 * times as decimal nanosecond strings, kinds and status codes as the proto's numbers), written
 * from what a request noted (./light.ts) as soon as it ends.
 *
 * Why not the SDK's `ReadableSpan` and its JSON transformer: a sampled request's spans then
 * lived as object graphs (a span object, a context, hrtime pairs, a copy of the attributes) in
 * the batch processor's buffer for up to 5 s, long enough to survive young-generation
 * collections and be promoted, then traced by every old-generation collection until exported.
 * Written at once, a request's spans wait as one `Buffer` outside the JS heap.
 */
export interface FinishedSpan {
  readonly name: string;
  /** OTLP's span kind: the API's `SpanKind` + 1. */
  readonly kind: OtlpSpanKind;
  readonly traceId: string;
  readonly spanId: string;
  /** The client's span for the request span (none when it sent no `traceparent`), the request span for the others. */
  readonly parentSpanId: string | undefined;
  /** `performance.now()` readings. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly attributes: TraceAttributes;
  /** Set: the span failed, with this message. */
  readonly error: string | undefined;
  /** `traceparent`s of linked spans. */
  readonly links: readonly string[] | undefined;
}

/** opentelemetry/proto/trace/v1 `Span.SpanKind`. */
export const OtlpSpanKind = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;
export type OtlpSpanKind = (typeof OtlpSpanKind)[keyof typeof OtlpSpanKind];

/** `Status.StatusCode`: UNSET 0, ERROR 2. */
const STATUS_ERROR = 2;

// performance.now() is relative to timeOrigin (ms, a float): whole seconds of the origin are
// kept apart so the sum keeps sub-microsecond precision.
const ORIGIN_S = Math.floor(performance.timeOrigin / 1000);
const ORIGIN_REST_MS = performance.timeOrigin - ORIGIN_S * 1000;

/** A `performance.now()` reading as Unix nanoseconds, a decimal string (OTLP JSON's fixed64). */
export function unixNanos(now: number): string {
  const ms = ORIGIN_REST_MS + now;
  let s = Math.floor(ms / 1000);
  let ns = Math.round((ms - s * 1000) * 1e6);
  if (ns >= 1e9) {
    s += 1;
    ns -= 1e9;
  }
  return `${ORIGIN_S + s}${String(ns).padStart(9, '0')}`;
}

/** OTLP JSON's `Span`, as `JSON.stringify` writes it. */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: OtlpSpanKind;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  status: { code: number; message?: string };
  links?: { traceId: string; spanId: string }[];
}
type OtlpAnyValue = { stringValue: string } | { boolValue: boolean } | { intValue: number } | { doubleValue: number };
export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

/** One span of `ExportTraceServiceRequest.resourceSpans[].scopeSpans[].spans`. */
export function otlpSpan(s: FinishedSpan): OtlpSpan {
  const span: OtlpSpan = {
    traceId: s.traceId,
    spanId: s.spanId,
    ...(s.parentSpanId !== undefined && { parentSpanId: s.parentSpanId }),
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: unixNanos(s.startedAt),
    endTimeUnixNano: unixNanos(Math.max(s.startedAt, s.endedAt)),
    attributes: otlpAttributes(s.attributes),
    status: s.error === undefined ? { code: 0 } : { code: STATUS_ERROR, message: s.error },
  };
  if (s.links !== undefined && s.links.length > 0) span.links = s.links.map(otlpLink);
  return span;
}

/** `KeyValue[]`; undefined values are left out, integers are `intValue`, other numbers `doubleValue`. */
export function otlpAttributes(attributes: TraceAttributes): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = [];
  for (const key in attributes) {
    const v = attributes[key];
    if (v === undefined) continue;
    const value: OtlpAnyValue =
      typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : Number.isInteger(v) ? { intValue: v } : Number.isFinite(v) ? { doubleValue: v } : { stringValue: String(v) };
    out.push({ key, value });
  }
  return out;
}

/** A W3C `traceparent` (already checked) as an OTLP `Span.Link`. */
function otlpLink(traceparent: string): { traceId: string; spanId: string } {
  return { traceId: traceparent.slice(3, 35), spanId: traceparent.slice(36, 52) };
}

/**
 * A request's spans as the bytes of a JSON list's items (no brackets): the form they wait in.
 * One native `JSON.stringify` per request, and a `Buffer` outside the JS heap, so nothing of a
 * request is left for the collector to trace while its batch fills.
 */
export function spanItems(spans: readonly OtlpSpan[]): Buffer {
  const json = Buffer.from(JSON.stringify(spans));
  return json.subarray(1, json.length - 1);
}

const COMMA = Buffer.from(',');

/** The body of one export: Portico's resource and scope around items from {@link spanItems}. */
export function exportBody(resourceAttributes: TraceAttributes, items: readonly Buffer[]): Buffer {
  const head = Buffer.from(`{"resourceSpans":[{"resource":{"attributes":${JSON.stringify(otlpAttributes(resourceAttributes))}},"scopeSpans":[{"scope":{"name":"portico"},"spans":[`);
  const parts: Buffer[] = [head];
  for (const [i, item] of items.entries()) {
    if (i > 0) parts.push(COMMA);
    parts.push(item);
  }
  parts.push(TAIL);
  return Buffer.concat(parts);
}
const TAIL = Buffer.from(']}]}]}');
