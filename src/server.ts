// First: swaps a dependency's re-export getters for plain values before anything loads it.
import './runtime/flatExports.ts';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import { createAuthentication, createTokenVerifier, identityHeaders, TokenVerifierConfigError, type JwksFetchOutcome } from './auth/index.ts';
import { ConfigError, verifierProblemAsConfig, type Config } from './config/index.ts';
import type { PorticoContext } from './request/context.ts';
import { readinessOf } from './health/readiness.ts';
import { createHttpApp } from './http/app.ts';
import { createCorsHook } from './cors/hook.ts';
import { graphqlHandler } from './http/graphql.ts';
import { createIntrospectionPolicy } from './introspection/index.ts';
import { createLogger, type Logger } from './logging/index.ts';
import { createAccessLog } from './logging/access.ts';
import { createRequestLifecycle } from './request/lifecycle.ts';
import { Registry } from 'prom-client';
import { createSubgraphStats, type SubgraphStats } from './health/subgraphStats.ts';
import { createMetrics, type PorticoMetrics } from './metrics/index.ts';
import { createOpsServer } from './ops/index.ts';
import { rateLimitAdminFor } from './ops/rateLimitAdmin.ts';
import { combineObservers } from './subgraphs/observers.ts';
import { createQueryTextLimitHook } from './hardening/http.ts';
import { createRateLimiter, createRateLimitEdge, createRateLimitSubjectResolver, type RateLimiter, type RateLimiterMetrics } from './rateLimit/index.ts';
import { createOverloadGate } from './overload/index.ts';
import { createCache } from './cache/index.ts';
import { createRedisStaleStore } from './degradation/redisStaleStore.ts';
import { createRedisClient, createRedisKeyValueCache } from './redis/index.ts';
import { createBreakerRegistry } from './resilience/breakers.ts';
import { createInflightDedup } from './resilience/dedup.ts';
import { createQueryPlanCache } from './planning/planCache.ts';
import { createMemoryStaleStore } from './degradation/staleStore.ts';
import type { SubgraphDataSource } from './subgraphs/dataSource.ts';
import type { SharedCall } from './subgraphs/types.ts';
import { policyResolver } from './subgraphs/policy.ts';
import { createSubgraphHttpClient } from './subgraphs/httpClient.ts';
import { createControlPlane, type ControlPlane } from './controlPlane/index.ts';
import { controlPlaneOptions } from './controlPlane/options.ts';
import { createTrustedDocuments } from './trustedDocuments/index.ts';
import { createTracing, type Tracing } from './tracing/index.ts';
import { createProbes, loadProbes, type Probes } from './probes/index.ts';
import { createStatusHistory, startSampling } from './health/history.ts';
import type { PolicyEvaluator } from './authorization/index.ts';
import { statusDataFor, type StatusSection } from './ops/statusData.ts';
import { buildLane, traceHeaders, type Lane, type LaneParts } from './lane.ts';
import { extend } from './runtime/objects.ts';

export type LifecycleState = 'created' | 'starting' | 'ready' | 'draining' | 'stopped';

export interface PorticoDeps {
  /** Defaults to a pino logger at the configured level on stdout. */
  logger?: Logger;
  /** Called on every JWKS fetch outcome (success, failure, stale keys used); for metrics. */
  onJwksFetch?: (outcome: JwksFetchOutcome) => void;
  /** Decides `@policy` requirements; without one every policy is denied (fail closed). */
  policy?: PolicyEvaluator;
  /** Rate-limit decision / mode / Redis hooks, for metrics. */
  rateLimitMetrics?: RateLimiterMetrics;
  /** Metrics registry served on the ops listener; default a fresh one per instance. */
  registry?: Registry;
}

export interface Portico {
  /**
   * Loads the supergraph and listens. Rejects (fatal) when the supergraph cannot be loaded.
   * `opsUrl` is the ops listener's base URL (undefined when PORTICO_OPS_ENABLED=false).
   */
  start(): Promise<{ url: string; port: number; opsUrl: string | undefined }>;
  /** Idempotent. Stops listening, finishes in-flight requests, releases everything. */
  stop(): Promise<void>;
  /**
   * Graceful shutdown (SIGTERM): readiness turns 503 at once, traffic is still served for
   * `drainDelayMs` so the load balancer notices, then the listener closes and in-flight requests
   * get `graceMs` to finish; what is left after that is cut. Resolves `true` when everything
   * finished in time. Idempotent.
   */
  drain(): Promise<boolean>;
  state(): LifecycleState;
  readonly logger: Logger;
  readonly parts: PorticoParts;
}

/** The moving parts, exposed for the ops plane and for tests (no private reach-ins). */
export interface PorticoParts {
  readonly breakers: ReturnType<typeof createBreakerRegistry>;
  /** Where the supergraph comes from and its canary (src/controlPlane/). */
  readonly supergraph: ControlPlane;
  readonly dataSources: ReadonlyMap<string, SubgraphDataSource>;
  /** Absent when rate limiting is disabled. */
  readonly limiter: RateLimiter | undefined;
  readonly metrics: PorticoMetrics;
  /** Per-subgraph request stats behind the ops view. */
  readonly stats: SubgraphStats;
  /** Absent when probes are off (PORTICO_PROBES_ENABLED). */
  readonly probes: Probes | undefined;
  /** Absent when tracing is off (PORTICO_OTEL_ENABLED). */
  readonly tracing: Tracing | undefined;
  /** The entity and response cache (src/cache/): status and invalidation. */
  readonly cache: Pick<ReturnType<typeof createCache>, 'invalidate' | 'status'>;
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
  let draining: Promise<boolean> | undefined;
  let apolloStarted = false;
  // Observability: every metric on this instance's registry; per-subgraph stats for the ops view.
  const metrics = createMetrics(deps.registry ?? new Registry());
  const stats = createSubgraphStats();
  // The status page's 15-minute pictures, sampled every PORTICO_STATUS_SAMPLE_MS.
  const history = createStatusHistory({ sampleMs: config.status.sampleMs });
  let stopSampling: (() => void) | undefined;
  // Extra blocks on the status page (canary, cache, ...): push a StatusSection.
  const statusSections: StatusSection[] = [];
  const observer = combineObservers([metrics.subgraphs, stats.observer, history.observer], logger);
  // Traces (off by default): spans per request, stage and subgraph fetch, over OTLP/HTTP.
  const tracing = config.tracing.enabled ? createTracing(config.tracing, { logger }) : undefined;
  // Synthetic probes: configured operations through this instance's own pipeline, every few seconds.
  const probes = config.probes.enabled
    ? createProbes(extend(config.probes, { probes: loadProbes(config.probes.file, config.probes.fileIsDefault) }), { logger, onResult: metrics.onProbeResult })
    : undefined;

  // Resilience: shared by every subgraph data source of this instance.
  const breakers = createBreakerRegistry(config.subgraphs.breaker, { logger });
  breakers.onTransition(metrics.onBreakerTransition);
  breakers.onTransition(history.onBreakerTransition);
  const inflight = createInflightDedup<SharedCall>();
  const http = createSubgraphHttpClient();
  // Shared state lives in Redis when configured; without it every piece has an in-memory
  // equivalent and says so (the limiter's start-up line).
  const redis = config.redis.url ? createRedisClient({ url: config.redis.url, commandTimeoutMs: config.redis.commandTimeoutMs }, { logger }) : undefined;
  const stale = redis ? createRedisStaleStore(redis, { ttlMs: config.subgraphs.staleTtlMs }) : createMemoryStaleStore({ ttlMs: config.subgraphs.staleTtlMs });
  const limiter = config.rateLimit.enabled
    ? createRateLimiter(
        {
          policies: config.rateLimit.policies,
          failMode: config.rateLimit.failMode,
          expectedInstances: config.rateLimit.expectedInstances,
          commandTimeoutMs: config.redis.commandTimeoutMs,
          costPolicies: config.rateLimit.costPolicies,
        },
        { logger, redis, metrics: deps.rateLimitMetrics ?? metrics.rateLimit },
      )
    : undefined;
  // Fair under overload: the request count charged at the edge (premium queues instead of a 429),
  // the cost charged once it is estimated, and each instance shedding its lowest tiers first.
  const rateLimitOptions = extend(config.rateLimit, { requestDeadlineMs: config.subgraphs.requestDeadlineMs });
  const rateLimitEdge = limiter && createRateLimitEdge(limiter, rateLimitOptions, { metrics: metrics.rateLimitQueue });
  const rateLimitNoteOf = createRateLimitSubjectResolver(rateLimitOptions);
  // Always measured (metrics); sheds only when enabled.
  const overload = createOverloadGate(config.overload, { tierOf: (req) => limiter?.tierOf(rateLimitNoteOf(req).subject.tier) ?? rateLimitNoteOf(req).subject.tier, metrics: metrics.overload });
  // Entity and response cache: L1 in process, L2 in Redis when configured.
  const cache = createCache(extend(config.cache, { commandTimeoutMs: config.redis.commandTimeoutMs }), { logger, redis, observer: metrics.cache });
  const policyFor = policyResolver(extend(config.subgraphs, { slowCallMs: config.subgraphs.breaker.slowCallMs }));
  const dataSources = new Map<string, SubgraphDataSource>();

  // Authentication: one verifier per instance, holding the JWKS and verification caches.
  const verifier = config.auth.verifier && createTokenVerifier(config.auth.verifier, { logger, onJwksFetch: deps.onJwksFetch ?? metrics.onJwksFetch });
  const authentication = createAuthentication({ mode: config.auth.mode, tierClaim: config.auth.tierClaim }, { verifier, logger });
  if (!verifier) logger.info('authentication is off (no PORTICO_JWKS_URL, PORTICO_JWKS_FILE or PORTICO_JWT_HS_SECRET): every request is anonymous, tokens get 401');
  // Subgraphs learn who is calling only from these headers, built from the verified principal.
  const identityHeadersFor = (ctx: PorticoContext) => identityHeaders(ctx.principal, config.auth.identityHeaders);

  // The control plane: where the supergraph comes from (file, URLs, Redis push), the disk cache,
  // and the canary, which serves a new version from a second gateway ("lane") next to the stable one.
  let canaryLane: Lane | undefined;
  const supergraph = createControlPlane(controlPlaneOptions(config), {
    logger,
    redis,
    onReload: metrics.onReload,
    onFetch: metrics.onFetch,
    onCanary: metrics.onCanary,
    onCanaryRequest: metrics.onCanaryRequest,
    lanes: {
      async open(sdl) {
        const lane = buildLane(sdl, 'canary', laneParts);
        await lane.apollo.start();
        canaryLane = lane;
      },
      async close() {
        const lane = canaryLane;
        canaryLane = undefined;
        // Requests already on the canary finish first: nothing new is routed to it from here.
        if (lane) setTimeout(() => void lane.apollo.stop().catch(() => undefined), config.subgraphs.requestDeadlineMs).unref();
      },
    },
  });
  metrics.bindControlPlane(() => supergraph.status());

  // Each lane plans with its own cache: a plan made for one supergraph is wrong for the other.
  const newPlanCache = () => createQueryPlanCache({ maxMb: config.supergraph.planCacheMb }, { onLookup: (hit) => metrics.onQueryPlanLookup(hit) });
  const planCache = newPlanCache();
  // Who may read the schema: Apollo's global switch, narrowed per request where it is not open to all.
  const introspection = createIntrospectionPolicy<PorticoContext>({ open: config.graphql.introspection, scope: config.auth.introspectionScope });
  // Trusted documents: listed ids become their text before APQ; unlisted operations are refused here in enforce mode.
  const trustedDocuments = createTrustedDocuments(config.trustedDocuments, { logger, metrics: metrics.trustedDocuments });
  // Each request's state is made once on arrival and passed down; when its answer is final it
  // gets one access-log line and its request metrics.
  const access = createAccessLog({ logger });
  const requests = createRequestLifecycle(
    { requestDeadlineMs: config.subgraphs.requestDeadlineMs },
    { logger, onFinish: [access.write, metrics.onFinish, ...(tracing ? [tracing.onFinish] : [])] },
  );

  // Automatic persisted queries; in Redis when configured, so a hash registered through one
  // instance resolves on every other. Redis errors are misses (the client re-sends the query).
  // One cache for both lanes: a hash registered on the stable lane resolves on the canary too.
  const apqCache = redis ? createRedisKeyValueCache(redis, { prefix: 'portico:apq:' }) : new InMemoryLRUCache<string>();

  const laneParts: LaneParts = {
    config,
    logger,
    metrics,
    tracing,
    planCacheFor: (lane) => (lane === 'stable' ? planCache : newPlanCache()),
    policyFor,
    dataSourceDeps: { logger, http, breakers, inflight, stale, traceHeadersFor: traceHeaders, identityHeadersFor, observer, cache: cache.fetchCache },
    dataSources,
    introspection,
    apqCache,
    trustedDocuments,
    rateLimitEdge,
    policy: deps.policy,
    requests,
    cache,
    supergraph,
  };
  const stableLane = buildLane(supergraph.manager, 'stable', laneParts);
  const apollo = stableLane.apollo;

  const app = createHttpApp(config, logger);
  // First: every later hook and handler reads the request's state.
  requests.register(app);
  if (tracing) app.addHook('onRequest', tracing.hook);
  if (probes) app.addHook('onRequest', probes.hook);
  // CORS first: preflights are answered before authentication, and 401s carry the grant too.
  app.addHook('onRequest', createCorsHook({ origins: config.server.corsOrigins, credentials: config.server.corsCredentials }));
  // While draining, every answer asks the client (the load balancer) to reconnect, so keep-alive
  // connections move to the other instances instead of waiting for ours to close.
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (lifecycle === 'draining') void reply.header('connection', 'close');
    done(null, payload);
  });

  function limiterReasons(): string[] {
    const mode = limiter?.mode();
    return mode === 'local-fallback' ? ['rate limiter in local fallback: Redis unreachable'] : [];
  }

  // The canary lane, when one runs, takes its share of requests; sticky per caller when there is one.
  const handle = graphqlHandler((req) => {
    const c = canaryLane;
    if (!c) return apollo;
    const p = req.portico?.state.principal;
    return supergraph.pick(p?.kind === 'user' ? p.subject : undefined) === 'canary' ? c.apollo : apollo;
  }, requests.contextFor);
  const queryTextLimit = createQueryTextLimitHook(config.limits);
  // Authentication first: what headers give away (two Authorization headers, a malformed token)
  // is refused on onRequest, before the body is read; the body's credentials and the signature
  // are checked first thing once it is. Then overload shedding (the tier is known now; a shed
  // request is charged nothing), then the rate limit, before anything that costs: parsing,
  // planning, subgraph calls.
  const preHandler = [authentication.verify, overload.hook, ...(rateLimitEdge ? [rateLimitEdge.hook] : []), queryTextLimit];
  app.route({ method: ['GET', 'POST'], url: '/graphql', onRequest: authentication.onRequest, preHandler, handler: handle });
  // Browsers opening the root get the landing page (Sandbox outside production). GET / also
  // executes queries, so it is authenticated like /graphql.
  app.get('/', { onRequest: authentication.onRequest, preHandler }, handle);
  app.get('/health/live', async (_req, reply) => reply.send({ status: 'live' }));
  app.get('/health/ready', async (_req, reply) => {
    const r = readinessOf(lifecycle, breakers.snapshot(), limiterReasons());
    return reply.code(r.ready ? 200 : 503).send(r.body);
  });

  // The ops plane: its own listener for metrics, per-subgraph health, the status page and admin.
  const ops = config.ops.enabled
    ? createOpsServer(
        { host: config.ops.host, port: config.ops.port, adminToken: config.ops.adminToken },
        {
          logger,
          registry: metrics.registry,
          breakers,
          supergraph,
          controlPlane: supergraph,
          stats,
          subgraphNames: () => [...dataSources.keys()],
          lifecycle: () => lifecycle,
          readiness: () => readinessOf(lifecycle, breakers.snapshot(), limiterReasons()),
          limiter: limiter && (() => ({ mode: limiter.mode(), description: limiter.describe(), liveInstances: limiter.liveInstances(), policies: limiter.policies(), stats: limiter.stats() })),
          rateLimitAdmin: limiter && rateLimitAdminFor(limiter),
          cache: { status: () => cache.status(), invalidate: config.cache.enabled ? (t) => cache.invalidate(t) : undefined },
          statusData: statusDataFor({ history, breakers: () => breakers.snapshot(), probes: probes && (() => probes.history()), supergraph: () => supergraphStateOrUndefined(supergraph), sections: statusSections }),
        },
      )
    : undefined;
  metrics.bind({ breakers: () => breakers.snapshot(), ready: () => lifecycle === 'ready', queryPlanCache: () => planCache });

  return {
    logger,
    parts: { breakers, supergraph, dataSources, limiter, metrics, stats, tracing, probes, cache },
    state: () => lifecycle,
    async start() {
      lifecycle = 'starting';
      // Production never trusts development keys: a JWKS URL serving them stops the start, as a
      // configuration error, whatever its address (a key file was checked by loadConfig).
      await verifier?.assertNoDevKeys().catch((err: unknown) => {
        throw err instanceof TokenVerifierConfigError ? new ConfigError(err.problems.map(verifierProblemAsConfig)) : err;
      });
      await apollo.start();
      apolloStarted = true;
      const opsAddress = await ops?.start();
      stopSampling = startSampling(history);
      await app.listen({ port: config.server.port, host: config.server.host });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.server.port;
      lifecycle = 'ready';
      const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
      probes?.start(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
      return { url: `http://${host}:${port}`, port, opsUrl: opsAddress?.url };
    },
    drain() {
      draining ??= (async () => {
        if (lifecycle === 'stopped') return true;
        lifecycle = 'draining';
        logger.info({ event: 'drain', phase: 'started', delayMs: config.shutdown.drainDelayMs }, 'draining: readiness is 503, still serving');
        await new Promise((r) => setTimeout(r, config.shutdown.drainDelayMs));
        logger.info({ event: 'drain', phase: 'closing', graceMs: config.shutdown.graceMs }, 'draining: no longer accepting connections');
        let timer: NodeJS.Timeout | undefined;
        const closed = app.close().then(() => true);
        const deadline = new Promise<false>((r) => (timer = setTimeout(() => r(false), config.shutdown.graceMs)));
        const clean = await Promise.race([closed, deadline]);
        clearTimeout(timer);
        if (!clean) {
          logger.warn({ event: 'drain', phase: 'forced' }, `draining: in-flight requests still open after ${config.shutdown.graceMs} ms (PORTICO_SHUTDOWN_GRACE_MS); closing them`);
          app.server.closeAllConnections();
        }
        await this.stop();
        logger.info({ event: 'drain', phase: 'done', clean }, 'drained');
        return clean;
      })();
      return draining;
    },
    async stop() {
      if (lifecycle === 'stopped') return;
      lifecycle = 'stopped';
      await probes?.stop();
      stopSampling?.();
      // A hard stop (drain() has already given requests their grace): connections a client left
      // open mid-request must not hold the listener forever.
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
      // Apollo refuses stop() before a successful start(); a refused start must still release the rest.
      if (apolloStarted) await apollo.stop();
      await canaryLane?.apollo.stop().catch(() => undefined);
      await supergraph.stop();
      await http.close();
      // Last of the listeners: metrics and the status page stay up while the gateway drains.
      await ops?.stop();
      breakers.shutdown();
      verifier?.close();
      await limiter?.close();
      overload.close();
      await cache.stop();
      await tracing?.shutdown();
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}

/** The supergraph served, or undefined before the first load. */
function supergraphStateOrUndefined(supergraph: { state(): { hash: string; loadedAt: Date } }): { hash: string; loadedAt: Date } | undefined {
  try {
    return supergraph.state();
  } catch {
    return undefined;
  }
}
