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
  AUTHORIZATION_TYPENAME_ALIAS,
  MAX_CACHED_RESULTS_PER_DOCUMENT,
  MAX_REMOVAL_WORK,
  PUBLIC_PERMISSION_KEY,
  type AuthorizationMode,
  type AuthorizationResult,
  type AuthorizeOperationOptions,
  type PolicyEvaluator,
  type RemovedField,
} from './authorize.ts';
export {
  applyRemovedFields,
  errorsForRemoved,
  MAX_ERROR_PATHS_PER_REMOVED_FIELD,
  nullRemovedFields,
} from './response.ts';
export type { Requirement } from './requirements.ts';
