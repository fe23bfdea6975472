import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { ANONYMOUS } from '../auth/principal.ts';
import type { OperationType, PorticoContext, RequestStateControl } from './context.ts';
import type { Logger } from '../logging/index.ts';
import { requestIdFrom, traceIdOf, traceparentFrom } from './correlation.ts';
import { LightAbort } from './signal.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The request's state and its edge-only handle, made by the first `onRequest` hook of
     * `createRequestLifecycle` (./lifecycle.ts). Read it with {@link requestState}.
     */
    portico: RequestStateControl | null;
  }
}

/** The instance's logger a state's child logger is made from, and that child once made. */
const BASE_LOGGER = Symbol('portico.baseLogger');
const CHILD_LOGGER = Symbol('portico.childLogger');
interface LoggerSlots {
  readonly requestId: string;
  readonly traceId: string;
  readonly [BASE_LOGGER]: Logger;
  [CHILD_LOGGER]?: Logger;
}

/**
 * The prototype of every request state: `log` is a getter here, not on the state. Apollo Server
 * shallow-copies the context per operation (`Object.assign` onto an object of the same prototype),
 * which reads an own getter and so made a child logger for every request; an inherited one is
 * left alone, and the copy still finds it. The logger travels as symbol-keyed own properties,
 * which the copy carries too.
 */
const STATE_PROTOTYPE = Object.freeze(
  Object.defineProperty({}, 'log', {
    get(this: LoggerSlots): Logger {
      return (this[CHILD_LOGGER] ??= this[BASE_LOGGER].child({ requestId: this.requestId, traceId: this.traceId }));
    },
  }),
);

/**
 * Makes a request's state from what arrived: its correlation ids (accepted from the client when
 * well-formed, else new), an anonymous principal, an abort signal. Pure apart from id
 * randomness and the logger child, which is made on first use: most requests never log beyond
 * the access line.
 */
export function createRequestState(headers: IncomingHttpHeaders, logger: Logger, now: number = performance.now()): RequestStateControl {
  const traceparent = traceparentFrom(headers['traceparent']);
  const requestId = requestIdFrom(headers['x-request-id']);
  const traceId = traceIdOf(traceparent);
  const controller = new LightAbort();
  const fields: Omit<PorticoContext, 'log'> & LoggerSlots = {
    [BASE_LOGGER]: logger,
    requestId,
    traceparent,
    traceId,
    principal: ANONYMOUS,
    startedAt: now,
    deadlineAt: Infinity,
    signal: controller,
    subgraphsTouched: new Set(),
    degraded: [],
    sharedResponse: false,
    operation: { name: undefined, type: 'none' },
    cost: { estimated: undefined, actual: undefined, subgraphFetches: 0 },
    trustedDocument: { outcome: undefined },
    cacheNote: { maxAgeS: undefined, private: false, noStore: false },
  };
  const state = Object.assign(Object.create(STATE_PROTOTYPE) as object, fields) as unknown as PorticoContext;
  return { state, abort: () => controller.abort(), finished: false };
}

/** The operation kind as a bounded value, whatever GraphQL-js handed over. Pure. */
export function operationTypeOf(operation: string | undefined): OperationType {
  return operation === 'query' || operation === 'mutation' || operation === 'subscription' ? operation : 'none';
}

/**
 * The state of a request that went through `createRequestLifecycle`'s `onRequest` hook,
 * for the hooks after it (authentication, rate limit).
 */
export function requestState(req: FastifyRequest): PorticoContext {
  if (req.portico === null) throw new Error('request state missing: createRequestLifecycle().register(app) must run before the routes');
  return req.portico.state;
}
