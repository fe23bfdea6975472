/**
 * Which executor runs the gateway's query plans. `portico` (the default) keeps @apollo/gateway's
 * planner, plan cache and data sources and replaces only the execution of plans (./plan.ts);
 * `apollo` leaves the gateway untouched, for comparison and as a fallback for one release.
 */
import { createHash } from 'node:crypto';
import { buildOperationContext, executeQueryPlan, type ApolloGateway } from '@apollo/gateway';
import { operationFromDocument } from '@apollo/federation-internals';
import type { QueryPlan } from '@apollo/query-planner';
import type { GatewayExecutor } from '@apollo/server-gateway-interface';
import { getVariableValues, GraphQLError, type GraphQLSchema } from 'graphql';
import type { Logger } from '../logging/index.ts';
import type { ExecutorName } from './options.ts';
import { compilePlan, executePlan, type CompiledPlan, type OperationContext, type PlanDataSource } from './plan.ts';

export { DEFAULT_EXECUTOR, EXECUTORS, type ExecutorName } from './options.ts';

export interface ExecutorOptions {
  readonly executor: ExecutorName;
}

export interface ExecutorDeps {
  readonly logger: Logger;
}

/**
 * The members of ApolloGateway its own executor reads. They are private in its typings, not in
 * its JavaScript; reading them keeps one planner, one plan store and one set of data sources per
 * gateway instead of building a second copy of each.
 */
interface GatewayInternals {
  executor: GatewayExecutor;
  schema?: GraphQLSchema;
  apiSchema?: unknown;
  supergraphSchema?: GraphQLSchema;
  queryPlanner?: { buildQueryPlan(operation: unknown, options: Record<string, unknown>): QueryPlan };
  queryPlanStore: { get(key: string): Promise<QueryPlan | undefined>; set(key: string, plan: QueryPlan): Promise<void> };
  serviceMap: Record<string, { dataSource: PlanDataSource }>;
  recursiveSelectionsLimitDisabled?: boolean;
  nonLocalSelectionsLimitDisabled?: boolean;
  experimental_didResolveQueryPlan?: (options: Record<string, unknown>) => void;
  logger: { warn(message: string): void };
}

/** Named operations' plan-store keys kept: far more than the distinct operations of an app. */
const MAX_NAMED_KEYS = 10_000;

/** ApolloGateway's plan-store key of a named operation: sha256(queryHash + operationName), memoised. */
function namedStoreKey(keys: Map<string, string>, queryHash: string, operationName: string): string {
  const id = `${queryHash}\u0000${operationName}`;
  let key = keys.get(id);
  if (key === undefined) {
    key = createHash('sha256').update(queryHash).update(operationName).digest('hex');
    if (keys.size >= MAX_NAMED_KEYS) keys.clear();
    keys.set(id, key);
  }
  return key;
}

/**
 * Installs the selected executor on a gateway before it is loaded (ApolloServer reads
 * `gateway.executor` when it starts). With `apollo` this does nothing.
 */
export function useExecutor(gateway: ApolloGateway, options: ExecutorOptions, deps: ExecutorDeps): void {
  if (options.executor === 'apollo') {
    deps.logger.info({ executor: 'apollo' }, "query plans run on @apollo/gateway's executor (PORTICO_EXECUTOR=apollo)");
    return;
  }
  deps.logger.info({ executor: 'portico' }, "query plans run on Portico's executor (PORTICO_EXECUTOR=portico)");
  const g = gateway as unknown as GatewayInternals;
  // A compiled plan lives as long as its plan: the plan store clears on every new supergraph.
  const compiledPlans = new WeakMap<QueryPlan, CompiledPlan>();
  const log = deps.logger.child({ component: 'executor' });
  // Plan-store keys of named operations (a sha256 per request otherwise); bounded, refilled when full.
  const namedKeys = new Map<string, string>();

  g.executor = async (requestContext) => {
    // The same steps as ApolloGateway's executor (index.js), without its tracing spans.
    const { request, document, queryHash } = requestContext;
    const storeKey = request.operationName ? namedStoreKey(namedKeys, queryHash, request.operationName) : queryHash;
    const operationContext = buildOperationContext({ schema: g.schema!, operationDocument: document, operationName: request.operationName }) as OperationContext;
    // ApolloGateway's validateIncomingRequest without its tracing span: the variables coerced
    // against the operation's definitions, their errors returned as they are.
    const definitions = operationContext.operation.variableDefinitions;
    if (definitions) {
      const { errors } = getVariableValues(operationContext.schema, definitions, request.variables ?? {});
      if (errors && errors.length > 0) return { errors };
    }
    let plan = await g.queryPlanStore.get(storeKey);
    if (!plan) {
      const operation = operationFromDocument(g.apiSchema as Parameters<typeof operationFromDocument>[0], document, { operationName: request.operationName });
      plan = g.queryPlanner!.buildQueryPlan(operation, {
        recursiveSelectionsLimitDisabled: g.recursiveSelectionsLimitDisabled,
        nonLocalSelectionsLimitDisabled: g.nonLocalSelectionsLimitDisabled,
      });
      try {
        await g.queryPlanStore.set(storeKey, plan);
      } catch (err) {
        g.logger.warn(`Could not store queryPlan${(err as Error | undefined)?.message ?? String(err)}`);
      }
    }
    // Per request, as ApolloGateway does: the gateway updates its service map in place when a
    // new supergraph adds a subgraph or moves one (a handful of entries).
    const serviceMap: Record<string, PlanDataSource> = Object.create(null);
    for (const name in g.serviceMap) serviceMap[name] = g.serviceMap[name]!.dataSource;
    g.experimental_didResolveQueryPlan?.({ queryPlan: plan, serviceMap, requestContext, operationContext });

    let compiled = compiledPlans.get(plan);
    if (!compiled) {
      try {
        compiled = compilePlan(plan, operationContext, g.apiSchema, g.supergraphSchema!);
      } catch (err) {
        if (err instanceof GraphQLError) return { errors: [err] };
        throw err;
      }
      compiledPlans.set(plan, compiled);
      if (!compiled.supported) log.debug({ event: 'executor_fallback' }, 'plan with @defer or a subscription: executed by @apollo/gateway');
    }
    // Usage-reporting traces (ftv1) and plan shapes Portico does not run: @apollo/gateway's executor.
    if (!compiled.supported || requestContext.metrics?.captureTraces) {
      return executeQueryPlan(plan, serviceMap as never, requestContext as never, operationContext as never, g.supergraphSchema!, g.apiSchema as never, undefined);
    }
    return executePlan(plan, compiled, serviceMap, requestContext, operationContext);
  };
}
