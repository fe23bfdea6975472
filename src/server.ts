import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault, ApolloServerPluginLandingPageProductionDefault } from '@apollo/server/plugin/landingPage/default';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ANONYMOUS } from './auth/principal.ts';
import type { Config } from './config/index.ts';
import type { PorticoContext } from './context.ts';
import { formatErrorFor } from './errors/format.ts';
import { readinessOf } from './health/readiness.ts';
import { createHttpApp } from './http/app.ts';
import { graphqlHandler } from './http/graphql.ts';
import { requestIdFrom, traceIdOf, traceparentFrom } from './http/tracing.ts';
import { createLogger, type Logger } from './logging/index.ts';
import { createBreakerRegistry } from './resilience/breakers.ts';
import { createInflightDedup } from './resilience/dedup.ts';
import { degradationPlugin } from './resilience/degradePlugin.ts';
import { createMemoryStaleStore } from './resilience/staleStore.ts';
import { createSubgraphDataSource, type SharedCall, type SubgraphDataSource } from './subgraphs/dataSource.ts';
import { policyResolver } from './subgraphs/policy.ts';
import { createFileSupergraphManager } from './supergraph/fileSupergraphManager.ts';

export type LifecycleState = 'created' | 'starting' | 'ready' | 'draining' | 'stopped';

export interface PorticoDeps {
  /** Defaults to a pino logger at the configured level on stdout. */
  logger?: Logger;
}

export interface Portico {
  /** Loads the supergraph and listens. Rejects (fatal) when the supergraph cannot be loaded. */
  start(): Promise<{ url: string; port: number }>;
  /** Idempotent. Stops listening, finishes in-flight requests, releases everything. */
  stop(): Promise<void>;
  state(): LifecycleState;
  readonly logger: Logger;
  readonly parts: PorticoParts;
}

/** The moving parts, exposed for the ops plane and for tests (no private reach-ins). */
export interface PorticoParts {
  readonly breakers: ReturnType<typeof createBreakerRegistry>;
  readonly supergraph: ReturnType<typeof createFileSupergraphManager>;
  readonly dataSources: ReadonlyMap<string, SubgraphDataSource>;
}

/**
 * Wiring only: every concern is built by its own folder's factory and plugged in here, in the
 * order a request meets them (see ARCHITECTURE.md, "One request, top to bottom").
 */
export function createPortico(config: Config, deps: PorticoDeps = {}): Portico {
  // Apollo's gateway phones home (cloud metadata probes, usage metrics) unless this is set
  // before an ApolloGateway is constructed. Off unless the operator opted in.
  if (!config.apolloTelemetry) process.env.APOLLO_TELEMETRY_DISABLED = 'true';

  const logger = deps.logger ?? createLogger({ level: config.log.level });
  let lifecycle: LifecycleState = 'created';

  // Resilience: shared by every subgraph data source of this instance.
  const breakers = createBreakerRegistry(config.subgraphs.breaker, { logger });
  const inflight = createInflightDedup<SharedCall>();
  const stale = createMemoryStaleStore({ ttlMs: config.subgraphs.staleTtlMs });
  const policyFor = policyResolver(config.subgraphs);
  const dataSources = new Map<string, SubgraphDataSource>();

  const supergraph = createFileSupergraphManager(
    { path: config.supergraph.path, watch: config.supergraph.watch },
    { logger },
  );

  const gateway = new ApolloGateway({
    supergraphSdl: supergraph,
    logger: logger.child({ component: 'gateway' }),
    // The plan keeps each fetch's parsed document, so the data source needs no parse per call.
    queryPlannerConfig: { exposeDocumentNodeInFetchNode: true },
    // Query plans are never shown through request headers.
    __exposeQueryPlanExperimental: false,
    buildService: ({ name, url }) => {
      const ds = createSubgraphDataSource(
        {
          name,
          url: config.subgraphs.urlOverrides[name] ?? url ?? '',
          policyFor: (key) => policyFor(name, key),
          maxInFlight: config.subgraphs.maxInFlight,
          dedup: config.subgraphs.dedup,
          retry: config.subgraphs.retry,
        },
        { logger, breakers, inflight, stale, traceHeadersFor: traceHeaders },
      );
      dataSources.set(name, ds);
      return ds;
    },
  });

  const apollo = new ApolloServer<PorticoContext>({
    gateway,
    logger: logger.child({ component: 'apollo' }),
    introspection: config.graphql.introspection,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: config.isProduction,
    stopOnTerminationSignals: false,
    formatError: formatErrorFor(config, logger),
    plugins: [
      config.graphql.landingPage === 'sandbox'
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })
        : ApolloServerPluginLandingPageProductionDefault({ footer: false }),
      degradationPlugin(),
    ],
  });

  const app = createHttpApp(config, logger);

  async function contextFor(req: FastifyRequest, reply: FastifyReply): Promise<PorticoContext> {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    const traceparent = traceparentFrom(req.headers['traceparent']);
    const controller = new AbortController();
    // A client that goes away should not keep subgraph calls running on its behalf.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) controller.abort();
    });
    return {
      requestId,
      traceparent,
      log: logger.child({ requestId, traceId: traceIdOf(traceparent) }),
      principal: ANONYMOUS,
      deadlineAt: performance.now() + config.subgraphs.requestDeadlineMs,
      signal: controller.signal,
      subgraphsTouched: new Set(),
      degraded: [],
    };
  }

  const handle = graphqlHandler(apollo, contextFor);
  app.route({ method: ['GET', 'POST'], url: '/graphql', handler: handle });
  // Browsers opening the root get the landing page (Sandbox outside production).
  app.get('/', handle);
  app.get('/health/live', async (_req, reply) => reply.send({ status: 'live' }));
  app.get('/health/ready', async (_req, reply) => {
    const r = readinessOf(lifecycle, breakers.snapshot());
    return reply.code(r.ready ? 200 : 503).send(r.body);
  });

  return {
    logger,
    parts: { breakers, supergraph, dataSources },
    state: () => lifecycle,
    async start() {
      lifecycle = 'starting';
      await apollo.start();
      await app.listen({ port: config.server.port, host: config.server.host });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.server.port;
      lifecycle = 'ready';
      const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
      return { url: `http://${host}:${port}`, port };
    },
    async stop() {
      if (lifecycle === 'stopped') return;
      lifecycle = 'stopped';
      await app.close();
      await apollo.stop();
      breakers.shutdown();
    },
  };
}

/** Correlation headers every subgraph call carries: request id and trace context. */
function traceHeaders(ctx: PorticoContext): Record<string, string> {
  return { 'x-request-id': ctx.requestId, traceparent: ctx.traceparent };
}
