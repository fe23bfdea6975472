import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestIdFrom, traceIdOf, traceparentFrom } from './tracing.ts';

/** How a request is known across logs, subgraph calls and the client's own records. */
export interface RequestCorrelation {
  /** Accepted from `x-request-id` (when well-formed) or generated; echoed in the response. */
  readonly requestId: string;
  /** W3C `traceparent` forwarded to subgraphs: the client's trace id with our span id. */
  readonly traceparent: string;
  /** Trace id part of `traceparent`, for log correlation. */
  readonly traceId: string;
}

// Keyed by the request object, never module-global state per request: entries go with it.
const byRequest = new WeakMap<FastifyRequest, RequestCorrelation>();

/**
 * The request's correlation ids, made on first use and the same for every later caller (the
 * GraphQL context, the access log, a hook that refuses the request at the edge). Lazy, so it
 * does not matter which hook runs first.
 */
export function correlationOf(req: FastifyRequest): RequestCorrelation {
  let c = byRequest.get(req);
  if (!c) {
    const traceparent = traceparentFrom(req.headers['traceparent']);
    c = { requestId: requestIdFrom(req.headers['x-request-id']), traceparent, traceId: traceIdOf(traceparent) };
    byRequest.set(req, c);
  }
  return c;
}

/**
 * `onSend` hook: every answer carries `x-request-id`, refusals at the edge (401, 413, 429)
 * included, so a client can quote it when reporting a problem. The value is either ours or the
 * client's after validation (`[A-Za-z0-9._:-]{1,128}`), so it cannot split headers.
 */
export async function echoRequestId(req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  reply.header('x-request-id', correlationOf(req).requestId);
  return payload;
}
