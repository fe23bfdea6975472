/**
 * Field authorization from the supergraph's `@authenticated`, `@requiresScopes` and `@policy`.
 *
 * Per supergraph load: `buildAuthorizationIndex(apiSchema, supergraphSdl)`.
 * Per request: `authorizeOperation(...)` before planning, then `applyRemovedFields(data, removed)`
 * on the result (nulls + FORBIDDEN / UNAUTHENTICATED errors at the removed paths).
 */
export type { AuthorizationCode } from './requirements.ts';
export { buildAuthorizationIndex, type AuthorizationIndex } from './requirementIndex.ts';
export {
  authorizeOperation,
  MAX_CACHED_RESULTS_PER_DOCUMENT,
  PUBLIC_PERMISSION_KEY,
  type AuthorizeOperationOptions,
} from './authorize.ts';
export { MAX_REMOVAL_WORK } from './filter.ts';
export {
  AUTHORIZATION_TYPENAME_ALIAS,
  type AuthorizationMode,
  type AuthorizationResult,
  type PolicyEvaluator,
  type RemovedField,
} from './types.ts';
export {
  applyRemovedFields,
  errorsForRemoved,
  MAX_ERROR_PATHS_PER_REMOVED_FIELD,
  nullRemovedFields,
} from './response.ts';
export type { Requirement } from './requirements.ts';
