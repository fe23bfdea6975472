import { randomBytes, randomUUID } from 'node:crypto';

/** Client-supplied request ids are accepted only in this shape, so logs cannot be injected into. */
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
/** W3C trace-context version 00: version-traceid-parentid-flags. */
const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Accepts a well-formed `x-request-id` or makes a new one. Pure apart from randomness. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return v && REQUEST_ID_RE.test(v) ? v : randomUUID();
}

/**
 * The `traceparent` to forward: the client's trace id with a new span id for our hop, or a new
 * trace when the client sent none (or garbage). All-zero ids are invalid per the spec.
 */
export function traceparentFrom(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  const m = v ? TRACEPARENT_RE.exec(v.trim()) : null;
  const spanId = randomBytes(8).toString('hex');
  if (m && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!)) return `00-${m[1]}-${spanId}-${m[3]}`;
  return `00-${randomBytes(16).toString('hex')}-${spanId}-01`;
}

/** Trace id part of a traceparent, for log correlation. */
export function traceIdOf(traceparent: string): string {
  return traceparent.slice(3, 35);
}
