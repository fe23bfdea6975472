import type { DocumentNode, FragmentDefinitionNode, OperationDefinitionNode } from 'graphql';
import type { Principal } from '../auth/principal.ts';
import type { AuthorizationCode, Requirement } from './requirements.ts';

/**
 * What authorizing an operation produces, and the per-document facts cached on the index: the
 * contract between the index, the analysis, the filter and the response step. No logic here.
 */

/**
 * Response key of the `__typename` the filter adds to every selection set it removed a field
 * from. It keeps emptied selection sets valid and tells {@link nullRemovedFields} exactly which
 * response objects a removal applies to (objects of other types or other branches lack it);
 * `nullRemovedFields` deletes it. Chosen to be unlikely to collide with a client alias.
 */
export const AUTHORIZATION_TYPENAME_ALIAS = 'portico__authTypename';

/**
 * Decides one AND-group of `@policy` names for a principal: true when the principal passes every
 * policy in the group. Must depend only on the principal (results are cached per permission key).
 */
export type PolicyEvaluator = (policies: string[], principal: Principal) => boolean;

/** One removed field, as a response-path pattern (list indices implied). */
export interface RemovedField {
  /**
   * Response names from the root, e.g. `['products', 'costPrice']`; lists are walked implicitly.
   * Empty only in the overflow case (see {@link AuthorizationResult.rejected}).
   */
  readonly path: readonly string[];
  /** Schema coordinate of the removed field, e.g. `Product.costPrice`. */
  readonly coordinate: string;
  readonly code: AuthorizationCode;
  /** Why, e.g. `requires scope pricing:internal`. */
  readonly reason: string;
  /** Concrete types the removal applies to (the parent may be abstract). */
  readonly possibleTypes: readonly string[];
  /**
   * Type wrappers of each path segment's field, outermost first: `!` non-null, `L` list; e.g.
   * `[Product!]!` → `'!L!'`. Lets the response step propagate nulls like GraphQL execution.
   */
  readonly wrappers: readonly string[];
}

export type AuthorizationMode = 'filter' | 'reject';

export interface AuthorizationResult {
  /** The filtered document, or the very same object when nothing was removed (or in reject mode). */
  readonly document: DocumentNode;
  readonly removed: readonly RemovedField[];
  /**
   * Do not execute; answer with `errorsForRemoved(undefined, removed)`. Set in reject mode when
   * anything would be removed, and in either mode for a document whose removals exceed
   * {@link MAX_REMOVAL_WORK} (then `removed` lists each denied coordinate once, with an empty path).
   */
  readonly rejected: boolean;
  /** Do not execute: rejected, or every root field was removed (answer with nulls + errors). */
  readonly nothingToExecute: boolean;
  /**
   * Identifies the principal's outcome (granted / which denial) on every requirement the
   * document touches. The filtered document and `removed` are a pure function of (document,
   * operation name, permission key): filtering never reads variables or anything else about
   * the principal. So a cache keyed by (schema, document, operation name, permissionKey) can
   * never hand one permission set's plan or result to another: two principals share a key only
   * when they are granted and denied exactly the same things in this document. The key is
   * `public` when the document touches no requirement, else a 128-bit SHA-256 prefix of the
   * outcomes listed with their canonical requirement text.
   */
  readonly permissionKey: string;
}

/** @internal One cached filter result of an {@link OperationAnalysis}. */
export interface FilterOutcome {
  readonly document: DocumentNode;
  readonly removed: readonly RemovedField[];
  readonly nothingToExecute: boolean;
  /** Set when the removal bookkeeping overflowed: the operation must be rejected. */
  readonly overflow: boolean;
  readonly permissionKey: string;
}

/** @internal Principal-independent facts about one operation of one document. */
export interface OperationAnalysis {
  readonly operation: OperationDefinitionNode | undefined;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  /** Distinct requirements reachable from the operation, sorted by key. */
  readonly touched: readonly Requirement[];
  /** Filter results by outcome vector (insertion-ordered: oldest evicted first). */
  readonly results: Map<string, FilterOutcome>;
}
