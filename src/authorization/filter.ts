import {
  getNamedType,
  isCompositeType,
  isListType,
  isNonNullType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { fieldDefinition } from './analysis.ts';
import { rebuildDocument, type FilteredSelectionSet } from './rebuild.ts';
import type { AuthorizationIndex } from './requirementIndex.ts';
import type { Denial, Requirement } from './requirements.ts';
import { AUTHORIZATION_TYPENAME_ALIAS, type FilterOutcome, type OperationAnalysis, type RemovedField } from './types.ts';
import { extend } from '../runtime/objects.ts';

/**
 * The principal-dependent half of authorization: removes the fields one set of denials forbids
 * from an operation and records where each was (response path, type wrappers) for the response
 * step. Runs once per (document, operation, permission outcome); the result is cached.
 */

/**
 * Upper bound on removal bookkeeping (entry copies while expanding fragments into paths). A real
 * operation removing dozens of fields at depth ≤ 12 needs well under 1,000; beyond this the
 * document is a fragment/alias bomb that hardening should have refused, and it is rejected.
 */
export const MAX_REMOVAL_WORK = 20_000;

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
interface Filtered extends FilteredSelectionSet {
  readonly entries: Entry[];
}

class RemovalOverflow extends Error {}

/** Filters one operation for one set of denials. Runs only on a cache miss. */
export function filterOperation(
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
        selections.push(extend(selection, { selectionSet: inner.selectionSet }));
        charge(inner.entries.length);
        for (const entry of inner.entries) {
          entries.push(extend(entry, { path: [responseName, ...entry.path], wrappers: [wrappers, ...entry.wrappers] }));
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
        selections.push(extend(selection, { selectionSet: inner.selectionSet }));
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
    return { selectionSet: extend(selectionSet, { selections }), changed, entries };
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

  const rebuilt = rebuildDocument(document, operation, root.selectionSet, { original: analysis.fragments, filtered: filteredFragments });
  return { document: rebuilt.document, removed: [...removed.values()], nothingToExecute: rebuilt.nothingToExecute, overflow: false };
}
