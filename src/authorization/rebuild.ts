import { Kind, visit, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { AUTHORIZATION_TYPENAME_ALIAS } from './types.ts';
import { extend } from '../runtime/objects.ts';

/** A selection set after filtering; `changed` when anything was removed from it or below it. */
export interface FilteredSelectionSet {
  readonly selectionSet: SelectionSetNode;
  readonly changed: boolean;
}

/** The fragments of the document as written, and as filtered (only those the filter visited). */
export interface DocumentFragments {
  readonly original: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly filtered: ReadonlyMap<string, FilteredSelectionSet | undefined>;
}

/**
 * Puts a filtered operation back into a valid document: the operation with its filtered root
 * selection set, the fragments it still reaches, the variables it still uses. Also says whether
 * anything is left to execute (every root field may have been removed).
 */
export function rebuildDocument(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  root: SelectionSetNode,
  fragments: DocumentFragments,
): { readonly document: DocumentNode; readonly nothingToExecute: boolean } {
  const filteredFragments = fragments.filtered;
  // Keep only fragments still reachable (a removed field may have been their only user) and
  // variables still used: re-validation would otherwise fail on NoUnused* rules.
  const reachable = new Set<string>();
  const collectSpreads = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        if (reachable.has(name)) continue;
        reachable.add(name);
        const fragment = filteredFragments.get(name)?.selectionSet ?? fragments.original.get(name)?.selectionSet;
        if (fragment !== undefined) collectSpreads(fragment);
      } else if (selection.selectionSet !== undefined) {
        collectSpreads(selection.selectionSet);
      }
    }
  };
  collectSpreads(root);
  const fragmentDefinitions: FragmentDefinitionNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.FRAGMENT_DEFINITION || !reachable.has(definition.name.value)) continue;
    const filtered = filteredFragments.get(definition.name.value);
    fragmentDefinitions.push(filtered?.changed ? extend(definition, { selectionSet: filtered.selectionSet }) : definition);
  }
  const usedVariables = new Set<string>();
  const collectVariables = {
    Variable(node: { name: { value: string } }) {
      usedVariables.add(node.name.value);
    },
  };
  visit(root, collectVariables);
  for (const directive of operation.directives ?? []) visit(directive, collectVariables);
  for (const fragment of fragmentDefinitions) visit(fragment.selectionSet, collectVariables);
  const filteredOperation: OperationDefinitionNode = extend(operation, {
    selectionSet: root,
    variableDefinitions: operation.variableDefinitions?.filter((definition) =>
      usedVariables.has(definition.variable.name.value),
    ),
  });

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
    document: extend(document, { definitions: [filteredOperation, ...fragmentDefinitions] }),
    nothingToExecute: !hasExecutableField(root, new Set()),
  };
}
