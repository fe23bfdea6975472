import { hostname } from 'node:os';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { ErrorCode } from '../errors/catalogue.ts';
import { buildHealthReport, type LimiterStatus } from '../health/report.ts';
import type { Readiness } from '../health/readiness.ts';
import type { SubgraphStats } from '../health/subgraphStats.ts';
import type { Logger } from '../logging/index.ts';
import { RateLimitPolicyError } from '../rateLimit/errors.ts';
import type { BreakerRegistry } from '../resilience/breakers.ts';
import type { FileSupergraphManager, SupergraphState } from '../supergraph/fileSupergraphManager.ts';
import type { CacheStatus } from '../cache/index.ts';
import { checkAdminToken } from './adminAuth.ts';
import { registerSupergraphAdmin, type SupergraphAdmin } from './supergraphAdmin.ts';
import { registerCacheAdmin, type CacheAdmin } from './cacheAdmin.ts';
import { opsError } from './errors.ts';
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from './statusPage.ts';
import { extend } from '../runtime/objects.ts';

/**
 * The ops plane of one instance (ARCHITECTURE.md): a listener of its own, never routed through
 * the public load balancer, serving
 * - `GET /metrics` (Prometheus text), `GET /health/subgraphs` (JSON), `GET /status` (HTML);
 * - admin actions behind `PORTICO_ADMIN_TOKEN`: `POST /admin/breakers/:keyOrSubgraph`,
 *   `POST /admin/supergraph/reload`, `POST /admin/supergraph/promote`, `POST /admin/supergraph/abort`,
 *   `POST /admin/ratelimits`.
 * Reads go through the same objects the gateway uses (breaker registry, supergraph manager,
 * stats): what the page shows is what the traffic meets.
 */

/** Admin bodies are a few dozen bytes; 64 KiB fits a large rate-limit policy document. */
export const OPS_BODY_LIMIT_BYTES = 65_536;
/** Longest breaker target accepted in a URL, chars (a key is `subgraph:Type.field`). */
const MAX_TARGET_CHARS = 256;

export interface OpsServerOptions {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** Bearer token for admin actions; unset refuses them all (403). */
  readonly adminToken: string | undefined;
  /** Shown on the status page and in `/health/subgraphs`. Default `<hostname>-<pid>`. */
  readonly instanceId?: string;
}

/** Applies emergency rate limits from the request body; returns what is now in force. */
export type RateLimitAdmin = (body: unknown) => unknown;

export interface OpsServerDeps {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly breakers: BreakerRegistry;
  readonly supergraph: Pick<FileSupergraphManager, 'reload' | 'state'>;
  readonly stats: SubgraphStats;
  /** Subgraph names of the loaded supergraph. */
  readonly subgraphNames: () => readonly string[];
  readonly lifecycle: () => string;
  /** The same readiness the main port's `/health/ready` answers. */
  readonly readiness: () => Readiness;
  /** Rate limiter status; the rate-limit integration provides it. Absent: `limiter: null`. */
  readonly limiter?: () => LimiterStatus;
  /**
   * `POST /admin/ratelimits`; the rate-limit integration provides it. Absent: 501. Throwing a
   * `RateLimitPolicyError` answers 400 with its message.
   */
  readonly rateLimitAdmin?: RateLimitAdmin;
  /** The control plane: its status in the report, `POST /admin/supergraph/promote|abort`. */
  readonly controlPlane?: SupergraphAdmin;
  /** Cache status (hit ratio per subgraph) and `POST /admin/cache/invalidate`; absent: none. */
  readonly cache?: { status: () => CacheStatus; invalidate: CacheAdmin | undefined };
  /** `GET /status/data`: what the status page draws (./statusData.ts). Absent: 404. */
  readonly statusData?: () => unknown;
}

export interface OpsServer {
  /** Listens; resolves with the URL (loopback when bound to every interface). */
  start(): Promise<{ url: string; port: number }>;
  /** Idempotent. */
  stop(): Promise<void>;
}

const breakerBody = z.object({ mode: z.enum(['open', 'closed', 'auto']) }).strict();

export function createOpsServer(options: OpsServerOptions, deps: OpsServerDeps): OpsServer {
  const instance = options.instanceId ?? `${hostname()}-${process.pid}`;
  const log = deps.logger.child({ component: 'ops' });
  const app = Fastify({ logger: false, bodyLimit: OPS_BODY_LIMIT_BYTES, return503OnClosing: true });
  let stopped = false;

  const supergraphState = (): SupergraphState | undefined => {
    try {
      return deps.supergraph.state();
    } catch {
      return undefined; // not loaded yet
    }
  };

  function report() {
    return buildHealthReport({
      instance,
      now: new Date(),
      lifecycle: deps.lifecycle(),
      readiness: deps.readiness(),
      supergraph: supergraphState(),
      limiter: deps.limiter?.(),
      controlPlane: deps.controlPlane?.status(),
      subgraphNames: deps.subgraphNames(),
      breakers: deps.breakers.snapshot(),
      stats: (name) => deps.stats.snapshot(name),
      cache: deps.cache?.status(),
    });
  }

  /** preHandler of every admin route; the reply is sent here when refused. */
  async function requireAdmin(req: FastifyRequest, reply: FastifyReply) {
    const check = checkAdminToken(options.adminToken, req.headers.authorization);
    if (check.ok) return;
    log.warn({ event: 'admin_refused', route: req.routeOptions.url, code: check.code, remote: req.socket.remoteAddress }, `admin action refused: ${check.code}`);
    if (check.status === 401) void reply.header('www-authenticate', 'Bearer realm="portico-admin"');
    return reply.code(check.status).send(opsError(check.code, check.message));
  }

  function audit(req: FastifyRequest, action: string, fields: Record<string, unknown>) {
    log.warn({ event: 'admin_action', action, remote: req.socket.remoteAddress, ...fields }, `admin: ${action}`);
  }

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.error({ err }, 'unhandled error on the ops listener');
    void reply.code(status).send(opsError(status === 500 ? ErrorCode.INTERNAL_SERVER_ERROR : ErrorCode.BAD_REQUEST, status === 500 ? 'internal error' : err.message));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(opsError(ErrorCode.NOT_FOUND, `no route ${req.method} ${req.url.split('?')[0]}; see /status, /health/subgraphs, /metrics`));
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await deps.registry.metrics();
    return reply.header('content-type', deps.registry.contentType).header('cache-control', 'no-store').send(text);
  });
  app.get('/health/subgraphs', async (_req, reply) => reply.header('cache-control', 'no-store').send(report()));
  app.get('/status', async (_req, reply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', STATUS_PAGE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store')
      .send(STATUS_PAGE_HTML),
  );
  if (deps.statusData) {
    const data = deps.statusData;
    app.get('/status/data', async (_req, reply) => reply.header('cache-control', 'no-store').send(data()));
  }
  app.get('/', async (_req, reply) => reply.redirect('/status'));

  app.post<{ Params: { target: string } }>('/admin/breakers/:target', { preHandler: requireAdmin }, async (req, reply) => {
    const target = req.params.target;
    const parsed = breakerBody.safeParse(req.body);
    if (!parsed.success) {
      return reply.code(400).send(opsError(ErrorCode.BAD_REQUEST, 'expected a JSON body {"mode": "open" | "closed" | "auto"}'));
    }
    const known = deps.subgraphNames();
    const subgraph = target.includes(':') ? target.slice(0, target.indexOf(':')) : target;
    const keyPart = target.includes(':') ? target.slice(target.indexOf(':') + 1) : undefined;
    // A typo must not create an override that holds for nothing ("pricng" forced open).
    if (target.length > MAX_TARGET_CHARS || !known.includes(subgraph) || keyPart === '') {
      return reply
        .code(404)
        .send(opsError(ErrorCode.NOT_FOUND, `${JSON.stringify(target.slice(0, MAX_TARGET_CHARS))} is neither a subgraph nor a breaker key of one; subgraphs: ${known.join(', ')}`));
    }
    const mode = parsed.data.mode;
    const keys = deps.breakers.force(target, mode);
    audit(req, 'force_breaker', { target, mode, keys });
    const breakers = deps.breakers.snapshot().filter((b) => b.key === target || b.subgraph === target).map((b) => ({ key: b.key, state: b.state }));
    return reply.send({ target, mode, keys, breakers });
  });

  app.post('/admin/supergraph/reload', { preHandler: requireAdmin }, async (req, reply) => {
    const outcome = await deps.supergraph.reload();
    const state = supergraphState();
    audit(req, 'reload_supergraph', { outcome, hash: state?.hash });
    const supergraph = state ? { hash: state.hash, loadedAt: state.loadedAt.toISOString() } : null;
    if (outcome === 'failure') {
      const reason = state?.lastRejection?.reason ?? 'rejected';
      return reply.code(422).send(extend(opsError(ErrorCode.SUPERGRAPH_REJECTED, `new supergraph rejected, the last good one keeps serving: ${reason}`), { outcome, supergraph }));
    }
    return reply.send({ outcome, supergraph });
  });

  registerSupergraphAdmin(app, deps.controlPlane, requireAdmin, audit);

  app.post('/admin/ratelimits', { preHandler: requireAdmin }, async (req, reply) => {
    if (!deps.rateLimitAdmin) {
      return reply.code(501).send(opsError(ErrorCode.NOT_IMPLEMENTED, 'no rate limiter is wired into this instance; nothing to apply'));
    }
    try {
      const result = await deps.rateLimitAdmin(req.body);
      audit(req, 'set_rate_limits', { body: req.body });
      return reply.send(result ?? { ok: true });
    } catch (err) {
      if (err instanceof RateLimitPolicyError) return reply.code(400).send(opsError(ErrorCode.BAD_REQUEST, err.message));
      throw err;
    }
  });

  registerCacheAdmin(app, deps.cache?.invalidate, { requireAdmin, audit, subgraphNames: deps.subgraphNames });

  return {
    async start() {
      await app.listen({ host: options.host, port: options.port });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : options.port;
      const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host.includes(':') ? `[${options.host}]` : options.host;
      log.info({ event: 'ops_listening', port }, `ops listener on ${host}:${port} (/status, /health/subgraphs, /metrics)`);
      return { url: `http://${host}:${port}`, port };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.close();
    },
  };
}
