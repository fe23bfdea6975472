import type { GraphQLSchema } from 'graphql';
import { buildAuthorizationIndex, type AuthorizationIndex } from '../authorization/requirementIndex.ts';
import { createOperationLimits, type OperationLimits, type OperationLimitsOptions } from '../hardening/index.ts';
import { supergraphDirectivesOf } from './directives.ts';

/**
 * Everything Portico derives from one loaded supergraph, built once per load.
 *
 * Layering: this module sits above `authorization/` and `hardening/` and calls their
 * per-supergraph builders; they read directives from `./directives.ts`, a pure module below
 * them, and never import anything else of this folder.
 */
export interface SupergraphViews {
  /** Who may see which field (`@authenticated`, `@requiresScopes`, `@policy`). */
  readonly authorizationIndex: AuthorizationIndex;
  /** What an operation may cost and how deep, wide and large it may be (`@cost`, `@listSize`). */
  readonly operationLimits: OperationLimits;
}

export interface SupergraphViewsOptions {
  /** Query limits the cost model is checked against (PORTICO_MAX_*). */
  readonly limits: OperationLimitsOptions;
}

/**
 * Derives the views of a (re)loaded supergraph. The SDL is parsed once and its directives are
 * shared by every view; the gateway's `onSchemaLoadOrUpdate` calls this and swaps all views
 * together, so a request never sees one supergraph's authorization with another's costs.
 *
 * @param apiSchema the API schema operations are validated against (`gateway.schema`).
 * @param coreSupergraphSdl the composed supergraph SDL, which still carries the directives.
 * @throws Error when a requirement directive has malformed arguments or a limit is invalid.
 */
export function deriveSupergraphViews(apiSchema: GraphQLSchema, coreSupergraphSdl: string, options: SupergraphViewsOptions): SupergraphViews {
  const directives = supergraphDirectivesOf(coreSupergraphSdl);
  return {
    authorizationIndex: buildAuthorizationIndex(apiSchema, directives),
    operationLimits: createOperationLimits(options.limits, { schema: apiSchema, directives }),
  };
}
