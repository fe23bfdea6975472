import { ApolloGateway, type SupergraphManager } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { ApolloServerPluginLandingPageLocalDefault, ApolloServerPluginLandingPageProductionDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { Config } from './config/index.ts';
import type { PorticoContext } from './request/context.ts';
import { formatErrorFor } from './errors/format.ts';
import { requestErrorsPlugin } from './errors/requestErrors.ts';
import type { Logger } from './logging/index.ts';
import type { PorticoMetrics } from './metrics/index.ts';
import type { AuthorizationIndex, PolicyEvaluator } from './authorization/index.ts';
import { authorizationPlugin } from './authorization/plugin.ts';
import type { OperationLimits } from './hardening/index.ts';
import { hardeningPlugin } from './hardening/plugin.ts';
import type { createRateLimitEdge } from './rateLimit/index.ts';
import type { createCache } from './cache/index.ts';
import type { createIntrospectionPolicy } from './introspection/index.ts';
import type { createRequestLifecycle } from './request/lifecycle.ts';
import type { createTrustedDocuments } from './trustedDocuments/index.ts';
import type { createQueryPlanCache } from './planning/planCache.ts';
import { useExecutor } from './execution/index.ts';
import { degradationPlugin } from './degradation/plugin.ts';
import { inboundDedupPlugin } from './resilience/inboundDedup.ts';
import { createSubgraphDataSource, type DataSourceDeps, type SubgraphDataSource } from './subgraphs/dataSource.ts';
import type { SubgraphPolicy } from './subgraphs/types.ts';
import { laneOutcomePlugin } from './controlPlane/plugin.ts';
import type { ControlPlane } from './controlPlane/index.ts';
import { deriveSupergraphViews } from './supergraph/views.ts';
import type { Tracing } from './tracing/index.ts';

/**
 * Wiring of one lane: an ApolloGateway and its Apollo Server on one supergraph, with every
 * plugin in the order a request meets them. The stable lane serves the supergraph manager; a
 * canary lane (src/controlPlane/) serves a new version next to it. Both share the instance's
 * parts (breakers, dedup, caches, limits), built once by server.ts and handed in here.
 */

export interface Lane {
  readonly apollo: ApolloServer<PorticoContext>;
}

/** What every lane of an instance shares; built once in createPortico. */
export interface LaneParts {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: PorticoMetrics;
  readonly tracing: Tracing | undefined;
  /** Each lane plans with its own cache: a plan made for one supergraph is wrong for the other. */
  readonly planCacheFor: (lane: 'stable' | 'canary') => ReturnType<typeof createQueryPlanCache>;
  readonly policyFor: (subgraph: string, key: string) => SubgraphPolicy;
  /** What every data source shares (breakers, dedup, HTTP client, stale store, cache, observer). */
  readonly dataSourceDeps: DataSourceDeps;
  /** The stable lane's data sources, for the ops plane. */
  readonly dataSources: Map<string, SubgraphDataSource>;
  readonly introspection: ReturnType<typeof createIntrospectionPolicy<PorticoContext>>;
  readonly apqCache: KeyValueCache<string>;
  readonly trustedDocuments: ReturnType<typeof createTrustedDocuments>;
  readonly rateLimitEdge: ReturnType<typeof createRateLimitEdge> | undefined;
  readonly policy: PolicyEvaluator | undefined;
  readonly requests: ReturnType<typeof createRequestLifecycle>;
  readonly cache: ReturnType<typeof createCache>;
  readonly supergraph: ControlPlane;
}

/** One gateway + Apollo Server on a supergraph: the stable lane, or a canary next to it. */
export function buildLane(schema: string | SupergraphManager, lane: 'stable' | 'canary', parts: LaneParts): Lane {
  const { config, logger, metrics, tracing, introspection, trustedDocuments, rateLimitEdge, requests, cache } = parts;
  const gateway = new ApolloGateway({
    supergraphSdl: schema,
    logger: logger.child({ component: 'gateway', lane }),
    // The plan keeps each fetch's parsed document, so the data source needs no parse per call.
    queryPlannerConfig: { exposeDocumentNodeInFetchNode: true, cache: parts.planCacheFor(lane) },
    // Query plans are never shown through request headers.
    __exposeQueryPlanExperimental: false,
    ...(tracing && { experimental_didResolveQueryPlan: ({ requestContext }) => tracing.didResolveQueryPlan(requestContext.context as PorticoContext) }),
    buildService: ({ name, url }) => {
      const ds = createSubgraphDataSource(
        {
          name,
          url: config.subgraphs.urlOverrides[name] ?? url ?? '',
          policyFor: (key) => parts.policyFor(name, key),
          maxInFlight: config.subgraphs.maxInFlight,
          dedup: config.subgraphs.dedup,
          retry: config.subgraphs.retry,
          maxResponseBytes: config.subgraphs.maxResponseBytes,
        },
        parts.dataSourceDeps,
      );
      if (lane === 'stable') parts.dataSources.set(name, ds);
      return ds;
    },
  });
  // Plans run on Portico's executor unless PORTICO_EXECUTOR=apollo (src/execution/), on every lane.
  useExecutor(gateway, config.execution, { logger });

  // Derived once from each (re)loaded supergraph: who may see which field, what a query may cost.
  let authorizationIndex: AuthorizationIndex | undefined;
  let operationLimits: OperationLimits | undefined;
  gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => {
    ({ authorizationIndex, operationLimits } = deriveSupergraphViews(apiSchema, coreSupergraphSdl, { limits: config.limits }));
  });

  const apollo = new ApolloServer<PorticoContext>({
    gateway,
    logger: logger.child({ component: 'apollo', lane }),
    introspection: introspection.enabled,
    csrfPrevention: true,
    persistedQueries: config.apq.enabled ? { ttl: config.apq.ttlS, cache: parts.apqCache } : false,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: config.isProduction,
    stopOnTerminationSignals: false,
    formatError: formatErrorFor(config, logger),
    plugins: [
      config.graphql.landingPage === 'sandbox'
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })
        : ApolloServerPluginLandingPageProductionDefault({ footer: false }),
      // Order matters: hooks start in this order. An operation that cannot be picked is a
      // request error before anything else looks at it; an operation the apps never publish is
      // refused before it is measured; hardening refuses before anything is filtered or planned;
      // authorization filters before the gateway plans.
      requestErrorsPlugin(),
      // The stable lane loads and watches the list; a canary lane only reads it.
      lane === 'stable' ? trustedDocuments : { requestDidStart: trustedDocuments.requestDidStart },
      hardeningPlugin({ limits: () => operationLimits, metrics: metrics.cost }),
      // Cost quotas: charged once the estimate above exists, before anything executes.
      ...(rateLimitEdge ? [rateLimitEdge.costPlugin] : []),
      authorizationPlugin({ mode: config.authorization.mode, policy: parts.policy }, { index: () => authorizationIndex }),
      requests.plugin,
      ...(tracing ? [tracing.plugin] : []),
      degradationPlugin(),
      // The response's Cache-Control from its parts (ours replaces Apollo's, which sees no hints through a gateway).
      cache.plugin,
      ApolloServerPluginCacheControlDisabled(),
      // Last: it shares the answer the plugins above have finished shaping.
      ...(config.subgraphs.inboundDedup ? [inboundDedupPlugin()] : []),
      ...introspection.plugins,
      // Last: counts the errors every plugin above may have added.
      metrics.plugin,
      laneOutcomePlugin(lane, parts.supergraph.record),
    ],
  });
  return { apollo };
}

/**
 * Correlation headers every subgraph call carries: request id and trace context (with tracing
 * on, the request span's and its sampled flag; a recorded fetch span replaces it with its own).
 */
export function traceHeaders(ctx: PorticoContext): Record<string, string> {
  return { 'x-request-id': ctx.requestId, traceparent: ctx.trace?.traceparent ?? ctx.traceparent };
}
