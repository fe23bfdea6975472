import { SpanStatusCode, TraceFlags, type Attributes, type Link, type SpanContext, type SpanKind } from '@opentelemetry/api';
import { hrTimeDuration, millisToHrTime, type InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { TraceAttributes } from '../request/context.ts';

/**
 * A finished span, as the SDK's span processors and exporters read it (`ReadableSpan`), made
 * from what a request recorded (./light.ts) once it has ended. Spans go straight to the batch
 * processor: no `Tracer`, no SDK `Span` (its sampler, attribute checks and clock readings per
 * span), since the sampling decision was taken once, when the request arrived.
 */
export interface FinishedSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly traceId: string;
  readonly spanId: string;
  /** The client's span (remote) for the request span, the request span for the others. */
  readonly parent: SpanContext | undefined;
  /** `performance.now()` readings. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly attributes: TraceAttributes;
  /** Set: the span failed, with this message. */
  readonly error: string | undefined;
  /** `traceparent`s of linked spans. */
  readonly links: readonly string[] | undefined;
}

/** The scope every Portico span is exported under. */
export const SCOPE: InstrumentationScope = { name: 'portico' };

const NO_EVENTS: [] = [];
const OK = { code: SpanStatusCode.UNSET };

export function readableSpan(s: FinishedSpan, resource: Resource): ReadableSpan {
  const startTime = millisToHrTime(performance.timeOrigin + s.startedAt);
  const endTime = millisToHrTime(performance.timeOrigin + Math.max(s.startedAt, s.endedAt));
  const context: SpanContext = { traceId: s.traceId, spanId: s.spanId, traceFlags: TraceFlags.SAMPLED };
  return {
    name: s.name,
    kind: s.kind,
    spanContext: () => context,
    parentSpanContext: s.parent,
    startTime,
    endTime,
    duration: hrTimeDuration(startTime, endTime),
    status: s.error === undefined ? OK : { code: SpanStatusCode.ERROR, message: s.error },
    attributes: defined(s.attributes),
    links: s.links?.map(linkOf) ?? [],
    events: NO_EVENTS,
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

function linkOf(traceparent: string): Link {
  return { context: { traceId: traceparent.slice(3, 35), spanId: traceparent.slice(36, 52), traceFlags: traceparent.endsWith('-01') ? TraceFlags.SAMPLED : TraceFlags.NONE } };
}

function defined(attributes: TraceAttributes): Attributes {
  const out: Attributes = {};
  for (const k in attributes) {
    const v = attributes[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
