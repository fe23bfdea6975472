import { createHash } from 'node:crypto';
import type { DocumentNode } from 'graphql';
import type { Principal } from '../auth/principal.ts';
import { analyze } from './analysis.ts';
import { filterOperation } from './filter.ts';
import type { AuthorizationIndex } from './requirementIndex.ts';
import { evaluateRequirement, type Access, type Denial, type Requirement } from './requirements.ts';
import type { AuthorizationMode, AuthorizationResult, PolicyEvaluator, RemovedField } from './types.ts';
import { extend } from '../runtime/objects.ts';

/** Permission key of a document that touches no requirement: everyone gets the same result. */
export const PUBLIC_PERMISSION_KEY = 'public';

/**
 * Distinct permission outcomes remembered per document. A document usually sees two or three
 * (anonymous, user, staff); more means callers with very varied scopes, and recomputing the
 * filter (microseconds) is cheaper than holding every combination.
 */
export const MAX_CACHED_RESULTS_PER_DOCUMENT = 16;

export interface AuthorizeOperationOptions {
  /** Index of the supergraph the document was validated against. */
  readonly index: AuthorizationIndex;
  /**
   * The validated document. Pass the same object for the same query text (Apollo Server's
   * document store does) to hit the per-document cache.
   */
  readonly document: DocumentNode;
  /** Operation to authorize; may be omitted when the document has exactly one. */
  readonly operationName?: string | null | undefined;
  readonly principal: Principal;
  /** Evaluates `@policy` groups; without it every policy is denied (fail closed). */
  readonly policy?: PolicyEvaluator | undefined;
  /**
   * `filter`: remove what the principal may not see and run the rest (null + error per removed
   * field). `reject`: refuse the whole operation when anything would be removed.
   */
  readonly mode: AuthorizationMode;
}

function permissionKeyOf(touched: readonly Requirement[], outcomes: readonly string[]): string {
  if (touched.length === 0) return PUBLIC_PERMISSION_KEY;
  const hash = createHash('sha256');
  touched.forEach((requirement, i) => hash.update(`${outcomes[i] ?? 'g'}\u0000${requirement.key}\n`));
  // 128 bits: collisions (which would share a cache entry across permission sets) are negligible.
  return hash.digest('base64url').slice(0, 22);
}

const NOTHING_REMOVED: readonly RemovedField[] = Object.freeze([]);

/**
 * Applies `@authenticated` / `@requiresScopes` / `@policy` to one operation for one principal.
 *
 * Cost per request on a warm cache: one WeakMap lookup, one evaluation per distinct
 * requirement the document touches, one Map lookup. The filter itself runs once per
 * (document, operation, permission outcome).
 *
 * Filtering ignores `@skip`/`@include` and variables on purpose (so the permission key is a
 * complete cache key); a removed field under a false `@include` still gets an error.
 */
export function authorizeOperation(options: AuthorizeOperationOptions): AuthorizationResult {
  const { index, document, operationName, principal, policy, mode } = options;
  const analysis = analyze(index, document, operationName);
  const operation = analysis.operation;
  if (operation === undefined || analysis.touched.length === 0) {
    return {
      document,
      removed: NOTHING_REMOVED,
      rejected: false,
      nothingToExecute: false,
      permissionKey: PUBLIC_PERMISSION_KEY,
    };
  }

  // Policy groups repeat across requirements; ask the evaluator once per group per request.
  const policyResults = new Map<string, boolean>();
  const checkPolicyGroup = (group: readonly string[]) => {
    if (policy === undefined) return false;
    const key = group.join('&');
    let allowed = policyResults.get(key);
    if (allowed === undefined) policyResults.set(key, (allowed = policy([...group], principal)));
    return allowed;
  };
  const access: Access = {
    anonymous: principal.kind === 'anonymous',
    scopes: new Set(principal.kind === 'user' ? principal.scopes : []),
    checkPolicyGroup,
  };
  const denials = new Map<Requirement, Denial>();
  const outcomes: string[] = [];
  for (const requirement of analysis.touched) {
    const denial = evaluateRequirement(requirement, access);
    if (denial !== undefined) denials.set(requirement, denial);
    outcomes.push(denial?.tag ?? 'g');
  }

  const vector = outcomes.join(',');
  let outcome = analysis.results.get(vector);
  if (outcome === undefined) {
    const filtered =
      denials.size === 0
        ? { document, removed: NOTHING_REMOVED, nothingToExecute: false, overflow: false }
        : filterOperation(index, analysis, operation, document, denials);
    outcome = extend(filtered, { permissionKey: permissionKeyOf(analysis.touched, outcomes) });
    if (analysis.results.size >= MAX_CACHED_RESULTS_PER_DOCUMENT) {
      const oldest = analysis.results.keys().next();
      if (oldest.done !== true) analysis.results.delete(oldest.value);
    }
    analysis.results.set(vector, outcome);
  }

  const rejected = outcome.overflow || (mode === 'reject' && outcome.removed.length > 0);
  return {
    document: rejected ? document : outcome.document,
    removed: outcome.removed,
    rejected,
    nothingToExecute: rejected || outcome.nothingToExecute,
    permissionKey: outcome.permissionKey,
  };
}
