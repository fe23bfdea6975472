import type { ApolloServerPlugin } from '@apollo/server';
import type { PorticoContext } from '../request/context.ts';
import { INTROSPECTION_MAX_DEPTH, isIntrospectionOnly } from '../introspection/policy.ts';
import { actualCost } from './cost.ts';
import type { CostMode, OperationLimits } from './index.ts';

/** Where the cost figures go (the metrics module implements it). Hooks must not throw. */
export interface CostMetrics {
  /** Every measured operation's estimate; `overLimit`: above `maxCost` (refused in `enforce` mode). */
  onEstimate(estimated: number, overLimit: boolean, mode: CostMode): void;
  /** After an executed operation's answer: what it did cost and how many subgraph fetches it made. */
  onActual(estimated: number, actual: number, subgraphFetches: number): void;
}

export interface HardeningPluginDeps {
  /** The limits of the current supergraph; `undefined` before the first one is loaded. */
  readonly limits: () => OperationLimits | undefined;
  readonly metrics?: CostMetrics;
}

/**
 * Query hardening after parse and validation, before authorization and planning: depth,
 * aliases, root fields and estimated cost, each a coded 400 with the measured value. Size and
 * tokens are checked before parsing, at the HTTP edge.
 *
 * The cost is also measured after execution (objects in the answer, subgraph fetches), so an
 * operator can compare estimates with reality (`portico_operation_cost_estimate_ratio`) before
 * choosing a limit, in `measure` mode or in `enforce` mode.
 */
export function hardeningPlugin(deps: HardeningPluginDeps): ApolloServerPlugin<PorticoContext> {
  return {
    async requestDidStart() {
      let estimated: number | undefined;
      return {
        async didResolveOperation(rc) {
          const limits = deps.limits();
          if (!limits) return;
          const { violation, figures, overCostLimit } = limits.analyze(rc.source, rc.document, rc.request.variables, rc.request.operationName);
          estimated = figures.cost;
          if (rc.contextValue.cost) rc.contextValue.cost.estimated = figures.cost;
          const introspection = isIntrospectionOnly(rc.operation);
          // Introspection is held to its own depth instead of the cost: not counted as over the limit.
          deps.metrics?.onEstimate(figures.cost, overCostLimit && !introspection, limits.limits.costMode);
          if (!violation) return;
          if (introspection && figures.depth <= INTROSPECTION_MAX_DEPTH && figures.aliases <= limits.limits.maxAliases) return;
          throw violation;
        },
        async willSendResponse({ response, contextValue, operation }) {
          // Only executed operations have an actual cost; refused ones never reached a subgraph.
          if (estimated === undefined || response.body.kind !== 'single' || response.body.singleResult.data == null) return;
          const actual = actualCost(response.body.singleResult.data, operation?.operation);
          const fetches = contextValue.cost?.subgraphFetches ?? 0;
          if (contextValue.cost) contextValue.cost.actual = actual;
          deps.metrics?.onActual(estimated, actual, fetches);
        },
      };
    },
  };
}
