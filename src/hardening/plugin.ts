import { Kind, type OperationDefinitionNode } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { PorticoContext } from '../context.ts';
import type { OperationLimits } from './index.ts';

/**
 * Introspection queries are deep by nature (the standard one measures depth 15, cost ~49,000);
 * they are allowed only to callers with introspection access, and held to this depth instead
 * of the cost limit.
 */
export const INTROSPECTION_MAX_DEPTH = 20;

/**
 * Query hardening after parse and validation, before authorization and planning: depth,
 * aliases, root fields and estimated cost, each a coded 400 with the measured value. Size and
 * tokens are checked before parsing, at the HTTP edge.
 */
export function hardeningPlugin(deps: { limits: () => OperationLimits | undefined }): ApolloServerPlugin<PorticoContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const limits = deps.limits();
          if (!limits) return;
          const { violation, figures } = limits.analyze(rc.source, rc.document, rc.request.variables, rc.request.operationName);
          if (!violation) return;
          if (isIntrospectionOnly(rc.operation) && figures.depth <= INTROSPECTION_MAX_DEPTH && figures.aliases <= limits.limits.maxAliases) return;
          throw violation;
        },
      };
    },
  };
}

function isIntrospectionOnly(op: OperationDefinitionNode | undefined): boolean {
  if (!op || op.operation !== 'query') return false;
  return op.selectionSet.selections.every((s) => s.kind === Kind.FIELD && s.name.value.startsWith('__'));
}
