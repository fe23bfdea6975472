import {
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { AuthorizationIndex } from './requirementIndex.ts';
import type { Requirement } from './requirements.ts';
import type { OperationAnalysis } from './types.ts';

/**
 * The principal-independent half of authorization: which operation a request runs and which
 * requirements it can touch, computed once per (document, operation name) and cached on the
 * index.
 */

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

export function fieldDefinition(type: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields()[name] : undefined;
}

/** The analysis of one operation of `document`, from the index's cache or computed and cached. */
export function analyze(index: AuthorizationIndex, document: DocumentNode, operationName: string | null | undefined) {
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
