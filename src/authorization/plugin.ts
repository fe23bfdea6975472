import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import type { PorticoContext } from '../request/context.ts';
import { PorticoError } from '../errors/porticoError.ts';
import { authorizeOperation } from './authorize.ts';
import { applyRemovedFields, errorsForRemoved } from './response.ts';
import type { AuthorizationIndex } from './requirementIndex.ts';
import type { AuthorizationMode, PolicyEvaluator, RemovedField } from './types.ts';

export interface AuthorizationPluginOptions {
  /** `filter` (default): unauthorized fields are null with an error; `reject`: the whole operation is refused. */
  mode: AuthorizationMode;
  /** Evaluates `@policy`; without one every policy is denied (fail closed). */
  policy?: PolicyEvaluator | undefined;
}

/**
 * Enforces `@authenticated`, `@requiresScopes` and `@policy` before planning: fields the
 * principal may not see are removed from the operation, and come back `null` with a FORBIDDEN or
 * UNAUTHENTICATED error at their paths. The plan cache is keyed by the query hash, so the hash is
 * re-keyed with the permission key: a plan built for one permission set is never served to
 * another.
 */
export function authorizationPlugin(
  options: AuthorizationPluginOptions,
  deps: { index: () => AuthorizationIndex | undefined },
): ApolloServerPlugin<PorticoContext> {
  return {
    async requestDidStart() {
      let removed: readonly RemovedField[] = [];
      let nothingToExecute = false;
      return {
        async didResolveOperation(rc) {
          const index = deps.index();
          if (!index) return;
          const result = authorizeOperation({
            index,
            document: rc.document,
            operationName: rc.request.operationName,
            principal: rc.contextValue.principal,
            policy: options.policy,
            mode: options.mode,
          });
          if (result.removed.length === 0) return;
          if (result.rejected) {
            const anonymous = rc.contextValue.principal.kind === 'anonymous';
            const first = result.removed[0]!;
            throw new PorticoError(
              `Not authorized to run this operation: ${first.coordinate} ${first.reason}`,
              anonymous ? 'UNAUTHENTICATED' : 'FORBIDDEN',
              anonymous ? 401 : 403,
              { fields: result.removed.map((r) => r.coordinate) },
            );
          }
          removed = result.removed;
          nothingToExecute = result.nothingToExecute;
          rekey(rc, result.document, result.permissionKey);
        },
        async responseForOperation() {
          if (!nothingToExecute) return null;
          // Every root field was removed (e.g. a mutation without its scope): the subgraph is
          // never called.
          const { data, errors } = applyRemovedFields({} as Record<string, unknown>, removed);
          return { http: { status: undefined, headers: new Map() as never }, body: { kind: 'single', singleResult: { data, errors: errors.map(toFormatted) } } };
        },
        async willSendResponse({ response, contextValue }) {
          if (removed.length === 0 || nothingToExecute || contextValue.sharedResponse || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const { data, errors } = result.data ? applyRemovedFields(result.data, removed) : { data: result.data, errors: errorsForRemoved(undefined, removed) };
          result.data = data as typeof result.data;
          result.errors = [...(result.errors ?? []), ...errors.map(toFormatted)];
        },
      };
    },
  };
}

/** The gateway plans from `document` and caches plans by `queryHash`; both change together. */
function rekey(rc: GraphQLRequestContextDidResolveOperation<PorticoContext>, document: typeof rc.document, permissionKey: string) {
  const mutable = rc as { document: typeof rc.document; queryHash: string };
  mutable.document = document;
  mutable.queryHash = createHash('sha256').update(rc.queryHash).update('\0').update(permissionKey).digest('hex');
}

function toFormatted(e: { toJSON(): GraphQLFormattedError }): GraphQLFormattedError {
  return e.toJSON();
}
