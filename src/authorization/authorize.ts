import { createHash } from 'node:crypto';
import {
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Principal } from '../auth/principal.ts';
import type { AuthorizationIndex } from './requirementIndex.ts';
import { evaluateRequirement, type Access, type AuthorizationCode, type Denial, type Requirement } from './requirements.ts';

/**
 * Response key of the `__typename` the filter adds to every selection set it removed a field
 * from. It keeps emptied selection sets valid and tells {@link nullRemovedFields} exactly which
 * response objects a removal applies to (objects of other types or other branches lack it);
 * `nullRemovedFields` deletes it. Chosen to be unlikely to collide with a client alias.
 */
export const AUTHORIZATION_TYPENAME_ALIAS = 'portico__authTypename';

/** Permission key of a document that touches no requirement: everyone gets the same result. */
export const PUBLIC_PERMISSION_KEY = 'public';

/**
 * Distinct permission outcomes remembered per document. A document usually sees two or three
 * (anonymous, user, staff); more means callers with very varied scopes, and recomputing the
 * filter (microseconds) is cheaper than holding every combination.
 */
export const MAX_CACHED_RESULTS_PER_DOCUMENT = 16;

/**
 * Upper bound on removal bookkeeping (entry copies while expanding fragments into paths). A real
 * operation removing dozens of fields at depth ≤ 12 needs well under 1,000; beyond this the
 * document is a fragment/alias bomb that hardening should have refused, and it is rejected.
 */
export const MAX_REMOVAL_WORK = 20_000;

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

interface FilterOutcome {
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

function selectOperation(document: DocumentNode, operationName: string | null | undefined) {
  let found: OperationDefinitionNode | undefined;
  let count = 0;
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    count += 1;
    if (operationName != null ? definition.name?.value === operationName : count === 1) found = definition;
  }
  // Without a name the operation is only defined when the document has exactly one.
  return operationName == null && count !== 1 ? undefined : found;
}

function fieldDefinition(type: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields()[name] : undefined;
}

function analyze(index: AuthorizationIndex, document: DocumentNode, operationName: string | null | undefined) {
  let perOperation = index.analyses.get(document);
  if (perOperation === undefined) index.analyses.set(document, (perOperation = new Map()));
  const cacheKey = operationName ?? '';
  const cached = perOperation.get(cacheKey);
  if (cached !== undefined) return cached;

  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const operation = selectOperation(document, operationName);
  const touched = new Map<string, Requirement>();
  const schema = index.schema;
  const rootType = operation === undefined ? undefined : schema.getRootType(operation.operation);
  // Each fragment is walked once: its fields' parent types come from its own type condition,
  // so where it is spread does not change which requirements it touches.
  const seenFragments = new Set<string>();
  const walk = (selectionSet: SelectionSetNode, parentType: GraphQLCompositeType) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const definition = fieldDefinition(parentType, selection.name.value);
        if (definition === undefined) continue;
        const requirement = index.fieldRequirement(parentType.name, selection.name.value);
        if (requirement !== undefined) touched.set(requirement.key, requirement);
        const named = getNamedType(definition.type);
        if (selection.selectionSet !== undefined && isCompositeType(named)) walk(selection.selectionSet, named);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parentType;
        if (isCompositeType(type)) walk(selection.selectionSet, type);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment === undefined || seenFragments.has(name)) continue;
        seenFragments.add(name);
        const type = schema.getType(fragment.typeCondition.name.value);
        if (isCompositeType(type)) walk(fragment.selectionSet, type);
      }
    }
  };
  if (operation !== undefined && rootType != null) walk(operation.selectionSet, rootType);

  const analysis: OperationAnalysis = {
    operation,
    fragments,
    touched: [...touched.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    results: new Map(),
  };
  // Only real operations are remembered: made-up operation names must not grow the cache.
  if (operation !== undefined) perOperation.set(cacheKey, analysis);
  return analysis;
}

/** `[Product!]!` → `'!L!'`. */
function wrappersOf(type: GraphQLOutputType): string {
  let result = '';
  let current: GraphQLOutputType = type;
  for (;;) {
    if (isNonNullType(current)) {
      result += '!';
      current = current.ofType;
    } else if (isListType(current)) {
      result += 'L';
      current = current.ofType;
    } else {
      return result;
    }
  }
}

const TYPENAME_ALIAS_FIELD: FieldNode = {
  kind: Kind.FIELD,
  alias: { kind: Kind.NAME, value: AUTHORIZATION_TYPENAME_ALIAS },
  name: { kind: Kind.NAME, value: '__typename' },
};

interface Entry {
  path: string[];
  wrappers: string[];
  coordinate: string;
  denial: Denial;
  possibleTypes: readonly string[];
}
interface Filtered {
  readonly selectionSet: SelectionSetNode;
  readonly changed: boolean;
  readonly entries: Entry[];
}

class RemovalOverflow extends Error {}

/** Filters one operation for one set of denials. Runs only on a cache miss. */
function filterOperation(
  index: AuthorizationIndex,
  analysis: OperationAnalysis,
  operation: OperationDefinitionNode,
  document: DocumentNode,
  denials: ReadonlyMap<Requirement, Denial>,
): Omit<FilterOutcome, 'permissionKey'> {
  const schema = index.schema;
  const filteredFragments = new Map<string, Filtered | undefined>();
  // Kept apart from the path expansion so an overflow can still say what was denied.
  const deniedCoordinates = new Map<string, RemovedField>();
  let work = 0;
  const charge = (count: number) => {
    work += count;
    if (work > MAX_REMOVAL_WORK) throw new RemovalOverflow();
  };

  const filterFragment = (name: string): Filtered | undefined => {
    if (filteredFragments.has(name)) return filteredFragments.get(name);
    // Mark before descending: a (never valid) fragment cycle then reads as "unchanged".
    filteredFragments.set(name, undefined);
    const fragment = analysis.fragments.get(name);
    const type = fragment && schema.getType(fragment.typeCondition.name.value);
    const result = fragment && isCompositeType(type) ? filterSelectionSet(fragment.selectionSet, type) : undefined;
    filteredFragments.set(name, result);
    return result;
  };

  const filterSelectionSet = (selectionSet: SelectionSetNode, parentType: GraphQLCompositeType): Filtered => {
    const selections: SelectionNode[] = [];
    const entries: Entry[] = [];
    let changed = false;
    let removedHere = false;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        const definition = fieldDefinition(parentType, name);
        // `__typename` and introspection are never guarded; unknown fields are validation's job.
        if (definition === undefined) {
          selections.push(selection);
          continue;
        }
        const requirement = index.fieldRequirement(parentType.name, name);
        const denial = requirement && denials.get(requirement);
        const responseName = selection.alias?.value ?? name;
        const wrappers = wrappersOf(definition.type);
        if (denial !== undefined) {
          changed = removedHere = true;
          charge(1);
          const coordinate = `${parentType.name}.${name}`;
          const possibleTypes = index.possibleTypes(parentType.name);
          entries.push({ path: [responseName], wrappers: [wrappers], coordinate, denial, possibleTypes });
          if (!deniedCoordinates.has(coordinate)) {
            const { code, reason } = denial;
            deniedCoordinates.set(coordinate, { path: [], coordinate, code, reason, possibleTypes, wrappers: [] });
          }
          continue;
        }
        const named = getNamedType(definition.type);
        if (selection.selectionSet === undefined || !isCompositeType(named)) {
          selections.push(selection);
          continue;
        }
        const inner = filterSelectionSet(selection.selectionSet, named);
        if (!inner.changed) {
          selections.push(selection);
          continue;
        }
        changed = true;
        selections.push({ ...selection, selectionSet: inner.selectionSet });
        charge(inner.entries.length);
        for (const entry of inner.entries) {
          entries.push({ ...entry, path: [responseName, ...entry.path], wrappers: [wrappers, ...entry.wrappers] });
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parentType;
        if (!isCompositeType(type)) {
          selections.push(selection);
          continue;
        }
        const inner = filterSelectionSet(selection.selectionSet, type);
        if (!inner.changed) {
          selections.push(selection);
          continue;
        }
        changed = true;
        selections.push({ ...selection, selectionSet: inner.selectionSet });
        charge(inner.entries.length);
        entries.push(...inner.entries);
      } else {
        // The spread stays; the fragment definition itself is replaced by its filtered version.
        selections.push(selection);
        const inner = filterFragment(selection.name.value);
        if (inner === undefined || !inner.changed) continue;
        changed = true;
        charge(inner.entries.length);
        entries.push(...inner.entries);
      }
    }
    if (!changed) return { selectionSet, changed, entries };
    if (removedHere) selections.push(TYPENAME_ALIAS_FIELD);
    return { selectionSet: { ...selectionSet, selections }, changed, entries };
  };

  const rootType = schema.getRootType(operation.operation);
  if (rootType == null) return { document, removed: [], nothingToExecute: false, overflow: false };
  let root: Filtered;
  try {
    root = filterSelectionSet(operation.selectionSet, rootType);
  } catch (error) {
    // Paths are unknown (that is what overflowed): report each denied coordinate once, pathless.
    if (error instanceof RemovalOverflow) {
      return { document, removed: [...deniedCoordinates.values()], nothingToExecute: true, overflow: true };
    }
    throw error;
  }
  if (!root.changed) return { document, removed: [], nothingToExecute: false, overflow: false };

  // Dedupe: the same field reached through two spreads at the same place is one removal.
  const removed = new Map<string, RemovedField>();
  for (const entry of root.entries) {
    const key = `${entry.path.join('\u0000')}\u0001${entry.coordinate}`;
    if (removed.has(key)) continue;
    removed.set(key, {
      path: entry.path,
      coordinate: entry.coordinate,
      code: entry.denial.code,
      reason: entry.denial.reason,
      possibleTypes: entry.possibleTypes,
      wrappers: entry.wrappers,
    });
  }

  // Keep only fragments still reachable (a removed field may have been their only user) and
  // variables still used: re-validation would otherwise fail on NoUnused* rules.
  const reachable = new Set<string>();
  const collectSpreads = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        if (reachable.has(name)) continue;
        reachable.add(name);
        const fragment = filteredFragments.get(name)?.selectionSet ?? analysis.fragments.get(name)?.selectionSet;
        if (fragment !== undefined) collectSpreads(fragment);
      } else if (selection.selectionSet !== undefined) {
        collectSpreads(selection.selectionSet);
      }
    }
  };
  collectSpreads(root.selectionSet);
  const fragmentDefinitions: FragmentDefinitionNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.FRAGMENT_DEFINITION || !reachable.has(definition.name.value)) continue;
    const filtered = filteredFragments.get(definition.name.value);
    fragmentDefinitions.push(filtered?.changed ? { ...definition, selectionSet: filtered.selectionSet } : definition);
  }
  const usedVariables = new Set<string>();
  const collectVariables = {
    Variable(node: { name: { value: string } }) {
      usedVariables.add(node.name.value);
    },
  };
  visit(root.selectionSet, collectVariables);
  for (const directive of operation.directives ?? []) visit(directive, collectVariables);
  for (const fragment of fragmentDefinitions) visit(fragment.selectionSet, collectVariables);
  const filteredOperation: OperationDefinitionNode = {
    ...operation,
    selectionSet: root.selectionSet,
    variableDefinitions: operation.variableDefinitions?.filter((definition) =>
      usedVariables.has(definition.variable.name.value),
    ),
  };

  const hasExecutableField = (selectionSet: SelectionSetNode, seen: Set<string>): boolean =>
    selectionSet.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.alias?.value !== AUTHORIZATION_TYPENAME_ALIAS;
      if (selection.kind === Kind.INLINE_FRAGMENT) return hasExecutableField(selection.selectionSet, seen);
      if (seen.has(selection.name.value)) return false;
      seen.add(selection.name.value);
      const fragment = fragmentDefinitions.find((definition) => definition.name.value === selection.name.value);
      return fragment !== undefined && hasExecutableField(fragment.selectionSet, seen);
    });

  return {
    document: { ...document, definitions: [filteredOperation, ...fragmentDefinitions] },
    removed: [...removed.values()],
    nothingToExecute: !hasExecutableField(root.selectionSet, new Set()),
    overflow: false,
  };
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
    outcome = { ...filtered, permissionKey: permissionKeyOf(analysis.touched, outcomes) };
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
