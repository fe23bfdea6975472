import type { ApolloServerPlugin } from '@apollo/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.ts';
import type { PorticoContext } from '../context.ts';
import { correlationOf } from '../http/correlation.ts';
import { operationTypeLabel, type PorticoMetrics } from '../metrics/index.ts';
import type { Logger } from './index.ts';

/**
 * One access-log line and the request metrics per client request, written when the answer has
 * gone out (Fastify `onResponse`), so refusals at the edge (400, 401, 413, 429) are logged like
 * GraphQL answers. An Apollo plugin notes what only GraphQL execution knows (operation name and
 * type, error codes); the GraphQL context is bound to its HTTP request when it is created.
 * Hot-path cost: two WeakMap lookups and one log call. The line also carries the operation's
 * estimated and actual cost and subgraph fetches, and the trusted-documents outcome.
 */

/** LB probes hit these every few seconds; logging them would drown the real traffic. */
export const DEFAULT_ACCESS_LOG_SKIP_PATHS: readonly string[] = ['/health/live', '/health/ready'];
/** Longest operation name / path logged, chars: names are client-chosen. */
const MAX_LOGGED_CHARS = 128;
/** Most degraded coordinates listed on one line; the count says how many there were. */
const MAX_LOGGED_COORDINATES = 20;

export interface AccessLogOptions {
  /** Paths neither logged nor counted. Default {@link DEFAULT_ACCESS_LOG_SKIP_PATHS}. */
  readonly skipPaths?: readonly string[];
}

export interface AccessLogDeps {
  readonly logger: Logger;
  readonly metrics?: Pick<PorticoMetrics, 'http' | 'graphql'>;
  /**
   * The principal authentication resolved for a request, for lines of requests refused before
   * a GraphQL context exists (429 at the edge). Default: the context's, else anonymous.
   */
  readonly principalOf?: (req: FastifyRequest) => Principal;
}

export interface AccessLog {
  /** Add after the degradation plugin, so its errors are counted too. */
  readonly plugin: ApolloServerPlugin<PorticoContext>;
  /** Call where the GraphQL context is made: ties the context to its HTTP request. */
  bind(req: FastifyRequest, ctx: PorticoContext): void;
  /** The Fastify `onResponse` hook. */
  onResponse(req: FastifyRequest, reply: FastifyReply): Promise<void>;
  /**
   * Call when the client went away before its answer (the response closed unfinished): the
   * request gets its line too, with status {@link CLIENT_CLOSED_REQUEST} and the time it really
   * waited. Fastify runs no `onResponse` for it, and its `onRequestAbort` only while the body
   * is still arriving.
   */
  onClientGone(req: FastifyRequest): void;
}

/** nginx's status for "the client closed the connection before the answer": never sent, only logged and counted. */
export const CLIENT_CLOSED_REQUEST = 499;

/** `anonymous`, the principal's tier, or `unspecified` for a verified token without one. */
export function tierOf(principal: Principal | undefined): string {
  if (!principal || principal.kind === 'anonymous') return 'anonymous';
  return principal.tier ?? 'unspecified';
}

export function createAccessLog(options: AccessLogOptions, deps: AccessLogDeps): AccessLog {
  const skip = new Set(options.skipPaths ?? DEFAULT_ACCESS_LOG_SKIP_PATHS);
  const log = deps.logger.child({ component: 'access' });
  const contexts = new WeakMap<FastifyRequest, PorticoContext>();
  /** Requests already logged as aborted: Fastify may still run onResponse for them. */
  const aborted = new WeakSet<FastifyRequest>();

  const plugin: ApolloServerPlugin<PorticoContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operation, operationName }) {
          const type = operationTypeLabel(operation?.operation);
          // Written into the context's shared note: see PorticoContext.operation.
          if (contextValue.operation) {
            contextValue.operation.name = operationName ?? undefined;
            contextValue.operation.type = type;
          }
          deps.metrics?.graphql.onOperation(type);
        },
        async willSendResponse({ response }) {
          if (!deps.metrics) return;
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : response.body.initialResult.errors;
          for (const e of errors ?? []) deps.metrics.graphql.onError(e.extensions?.code as string | undefined);
        },
      };
    },
  };

  return {
    plugin,
    bind(req, ctx) {
      contexts.set(req, ctx);
    },
    async onResponse(req, reply) {
      if (aborted.has(req)) return;
      write(req, reply.statusCode, reply.elapsedTime);
    },
    onClientGone(req) {
      if (aborted.has(req)) return;
      aborted.add(req);
      const ctx = contexts.get(req);
      write(req, CLIENT_CLOSED_REQUEST, ctx ? performance.now() - ctx.startedAt : 0);
    },
  };

  function write(req: FastifyRequest, status: number, ms: number) {
    {
      const q = req.url.indexOf('?');
      // Never the query string: GET /graphql carries the whole operation and its variables there.
      const path = q >= 0 ? req.url.slice(0, q) : req.url;
      if (skip.has(path)) return;
      const ctx = contexts.get(req);
      const op = ctx?.operation;
      const type = op?.type ?? 'none';
      deps.metrics?.http.onResponse(status, type, ms / 1_000);
      const { requestId, traceId } = correlationOf(req);
      const coordinates = ctx ? [...new Set(ctx.degraded.flatMap((d) => d.coordinates))] : [];
      const line = {
        event: 'access',
        requestId,
        traceId,
        method: req.method,
        path: path.slice(0, MAX_LOGGED_CHARS),
        status,
        durationMs: Math.round(ms * 10) / 10,
        operationName: op?.name?.slice(0, MAX_LOGGED_CHARS),
        operationType: type,
        subgraphs: ctx ? [...ctx.subgraphsTouched] : [],
        degraded: coordinates.slice(0, MAX_LOGGED_COORDINATES),
        ...(coordinates.length > MAX_LOGGED_COORDINATES ? { degradedCount: coordinates.length } : {}),
        tier: tierOf(ctx?.principal ?? deps.principalOf?.(req)),
        // Cost in objects (src/hardening/cost.ts): estimated once resolved, actual once executed.
        ...(ctx?.cost?.estimated !== undefined ? { costEstimated: ctx.cost.estimated, subgraphFetches: ctx.cost.subgraphFetches } : {}),
        ...(ctx?.cost?.actual !== undefined ? { costActual: ctx.cost.actual } : {}),
        ...(ctx?.trustedDocument?.outcome !== undefined ? { trustedDocument: ctx.trustedDocument.outcome } : {}),
      };
      const msg = `${req.method} ${line.path} ${status}${status === CLIENT_CLOSED_REQUEST ? ' (client went away)' : ''} ${line.durationMs} ms`;
      if (status >= 500) log.warn(line, msg);
      else log.info(line, msg);
    }
  }
}
