import type { ApolloServerPlugin } from '@apollo/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CLIENT_CLOSED_REQUEST, type FinishedRequest, type PorticoContext, type RequestStateControl } from './context.ts';
import type { Logger } from '../logging/index.ts';
import { createRequestState, operationTypeOf } from './state.ts';

/** LB probes hit these every few seconds; logging or counting them would drown the real traffic. */
export const DEFAULT_UNTRACKED_PATHS: readonly string[] = ['/health/live', '/health/ready'];

export interface RequestLifecycleOptions {
  /** Budget of a request's subgraph calls from the start of GraphQL execution, ms (PORTICO_REQUEST_DEADLINE_MS). */
  readonly requestDeadlineMs: number;
  /** Paths whose requests are not reported to `onFinish`. Default {@link DEFAULT_UNTRACKED_PATHS}. */
  readonly untrackedPaths?: readonly string[];
}

export interface RequestLifecycleDeps {
  readonly logger: Logger;
  /** Told once per request when its answer is final (access log, request metrics). Must not throw. */
  readonly onFinish: readonly ((request: FinishedRequest) => void)[];
}

export interface RequestLifecycle {
  /** Installs the hooks; call before any other hook so every later one finds the state. */
  register(app: FastifyInstance): void;
  /** Apollo Server's context function: the request's state, with its execution deadline started. */
  contextFor(req: FastifyRequest, reply: FastifyReply): Promise<PorticoContext>;
  /** Notes the resolved operation's name and type on the state, for the access log and metrics. */
  readonly plugin: ApolloServerPlugin<PorticoContext>;
}

/**
 * The request's whole life at the edge: its state made once on arrival, the request id echoed on
 * every answer (refusals at the edge included), and one report when the answer is final — sent
 * (`onResponse`), or abandoned by the client (499; Fastify runs no `onResponse` for it, and its
 * `onRequestAbort` only while the body is still arriving).
 */
export function createRequestLifecycle(options: RequestLifecycleOptions, deps: RequestLifecycleDeps): RequestLifecycle {
  const untracked = new Set(options.untrackedPaths ?? DEFAULT_UNTRACKED_PATHS);

  function finish(req: FastifyRequest, control: RequestStateControl, status: number, ms: number): void {
    if (control.finished) return;
    control.finished = true;
    const q = req.url.indexOf('?');
    const path = q >= 0 ? req.url.slice(0, q) : req.url;
    if (untracked.has(path)) return;
    const finished: FinishedRequest = { state: control.state, method: req.method, path, status, ms };
    for (const listener of deps.onFinish) listener(finished);
  }

  return {
    register(app) {
      app.decorateRequest('portico', null);
      // Callback-style hooks: nothing here waits, and an async hook costs Fastify a promise
      // and a microtask hop per request each.
      app.addHook('onRequest', (req, _reply, done) => {
        req.portico = createRequestState(req.headers, deps.logger);
        done();
      });
      // The id is either ours or the client's after validation (`[A-Za-z0-9._:-]{1,128}`), so it
      // cannot split headers; a client quotes it when reporting a problem.
      app.addHook('onSend', (req, reply, payload, done) => {
        reply.header('x-request-id', controlOf(req).state.requestId);
        done(null, payload);
      });
      app.addHook('onResponse', (req, reply, done) => {
        finish(req, controlOf(req), reply.statusCode, reply.elapsedTime);
        done();
      });
    },
    async contextFor(req, reply) {
      const control = controlOf(req);
      control.state.deadlineAt = performance.now() + options.requestDeadlineMs;
      // A client that goes away should not keep subgraph calls running on its behalf.
      reply.raw.once('close', () => {
        if (reply.raw.writableFinished) return;
        control.abort();
        finish(req, control, CLIENT_CLOSED_REQUEST, performance.now() - control.state.startedAt);
      });
      return control.state;
    },
    plugin: {
      async requestDidStart() {
        return {
          async didResolveOperation({ contextValue, operation, operationName }) {
            // A shared note: see PorticoContext.operation.
            if (contextValue.operation) {
              contextValue.operation.name = operationName ?? undefined;
              contextValue.operation.type = operationTypeOf(operation?.operation);
            }
          },
        };
      },
    },
  };

  /**
   * The request's state. Fastify answers a few requests without running `onRequest` (a URL it
   * cannot decode goes straight to the error handler): those get their state here, once.
   */
  function controlOf(req: FastifyRequest): RequestStateControl {
    return (req.portico ??= createRequestState(req.headers, deps.logger));
  }
}
