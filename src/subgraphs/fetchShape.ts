import { Kind, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

/**
 * What one subgraph fetch of a query plan asks for, derived from its operation document:
 * the field group it belongs to (Portico's unit of "per-field" breaking) and the response
 * names it provides. Pure; computed once per document and cached.
 */
export interface FetchShape {
  readonly operationType: 'query' | 'mutation' | 'subscription';
  /** `entity` for `_entities` fetches, `root` for root-field fetches. */
  readonly kind: 'entity' | 'root';
  /**
   * Field group, without the subgraph prefix: `Product` for an entity fetch of Products,
   * `Query.products` for a root fetch of one field, `Query` when several root fields share
   * one fetch (the group is then the whole root type of that subgraph).
   */
  readonly group: string;
  /** Response names the fetch provides at its path (no `__typename`). */
  readonly fields: readonly string[];
  /** Entity type names (entity fetches only). */
  readonly typenames: readonly string[];
  /** `Type.field` coordinates, for the `degraded` summary a UI reads. */
  readonly coordinates: readonly string[];
}

const cache = new WeakMap<DocumentNode, FetchShape>();

export function fetchShape(document: DocumentNode): FetchShape {
  let shape = cache.get(document);
  if (!shape) {
    shape = computeShape(document);
    cache.set(document, shape);
  }
  return shape;
}

function computeShape(document: DocumentNode): FetchShape {
  const op = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!op) throw new Error('fetch document has no operation');
  const rootType = op.operation === 'query' ? 'Query' : op.operation === 'mutation' ? 'Mutation' : 'Subscription';
  const rootFields = fieldsOf(op.selectionSet);
  const entities = rootFields.find((f) => f.name === '_entities');
  if (entities && entities.selectionSet) {
    const typenames: string[] = [];
    const fields: string[] = [];
    const coordinates: string[] = [];
    for (const sel of entities.selectionSet.selections) {
      if (sel.kind !== Kind.INLINE_FRAGMENT || !sel.typeCondition) continue;
      const type = sel.typeCondition.name.value;
      if (!typenames.includes(type)) typenames.push(type);
      for (const f of fieldsOf(sel.selectionSet)) {
        if (f.name === '__typename') continue;
        if (!fields.includes(f.responseName)) fields.push(f.responseName);
        coordinates.push(`${type}.${f.name}`);
      }
    }
    typenames.sort();
    return { operationType: op.operation, kind: 'entity', group: typenames.join('|'), fields, typenames, coordinates };
  }
  const named = rootFields.filter((f) => f.name !== '__typename');
  const names = [...new Set(named.map((f) => f.name))];
  return {
    operationType: op.operation,
    kind: 'root',
    group: names.length === 1 ? `${rootType}.${names[0]}` : rootType,
    fields: named.map((f) => f.responseName),
    typenames: [],
    coordinates: names.map((n) => `${rootType}.${n}`),
  };
}

interface FieldInfo {
  name: string;
  responseName: string;
  selectionSet: SelectionSetNode | undefined;
}

/** Top-level fields of a selection set, looking through inline fragments without type conditions. */
function fieldsOf(set: SelectionSetNode): FieldInfo[] {
  const out: FieldInfo[] = [];
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      out.push({ name: sel.name.value, responseName: sel.alias?.value ?? sel.name.value, selectionSet: sel.selectionSet });
    } else if (sel.kind === Kind.INLINE_FRAGMENT && !sel.typeCondition) {
      out.push(...fieldsOf(sel.selectionSet));
    }
  }
  return out;
}
