import {
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  valueFromASTUntyped,
  type DirectiveNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { argumentsOf, findDirective, type SupergraphDirectives } from '../supergraph/directives.ts';
import { saturate } from './measure.ts';

/**
 * Static cost estimate of an operation, in the convention of Apollo Router's demand control
 * (the IBM cost specification's `@cost` / `@listSize`, federation 2.9+). Pure; the index is
 * built once per supergraph.
 *
 * The unit is "objects the answer may hold": with no `@cost` directive the estimate of an
 * operation is an upper bound of the objects in its response, which is what the actual cost
 * counts (see `actualCost`), so estimate ÷ actual reads directly as "how pessimistic".
 *
 * Model:
 * - a field returning an object, interface or union costs 1, a scalar or enum 0, unless the
 *   field or its type carries `@cost(weight:)`; `__typename` costs 0; each provided argument
 *   with `@cost` adds its weight; a mutation adds {@link MUTATION_BASE_COST};
 * - a list field multiplies its own cost and its selection's by its expected size: the largest
 *   provided slicing argument (literal or variable), else the largest slicing argument default,
 *   else `@listSize(assumedSize:)`, else the configured assumed list size. Slicing arguments are
 *   `@listSize(slicingArguments:)`, or conventional page-size names for fields without it;
 * - `@listSize(sizedFields:)` (connections) gives that size to the named child lists instead;
 * - type conditions are alternatives: an object in the answer has exactly one concrete type,
 *   so a selection on an abstract type costs as much as its most expensive possible type
 *   (fragments on that type and on the interfaces it implements add up; the others do not
 *   apply). Apollo Router adds every fragment up instead, which overestimates unions and
 *   interfaces by their number of branches;
 * - fields and fragments excluded by `@skip` / `@include` (literal or variable) cost nothing.
 */

/**
 * Apollo's convention: a mutation's side effect weighs as much as ten objects read. Counted in
 * the actual cost too, so mutations do not skew the estimate ÷ actual ratio.
 */
export const MUTATION_BASE_COST = 10;

/** Cost facts of one `Type.field`, read once from the supergraph. */
interface FieldCost {
  /** Cost of one instance of the field's value: `@cost`, else 1 for composites, 0 for leaves. */
  readonly weight: number;
  /** Weights of arguments with `@cost`, charged when the argument is provided. */
  readonly argumentWeights: ReadonlyMap<string, number> | undefined;
  /** True when the field returns a list (its cost is multiplied by the list's expected size). */
  readonly isList: boolean;
  /** Arguments whose value is the page size, with their schema defaults when numeric. */
  readonly slicing: readonly { readonly name: string; readonly defaultValue: number | undefined }[];
  readonly assumedSize: number | undefined;
  /** `@listSize(sizedFields:)`: child fields the size applies to. */
  readonly sizedFields: ReadonlySet<string> | undefined;
}

export interface CostIndexOptions {
  /** Size assumed for a list with no slicing argument value, default or `@listSize`, in items. */
  readonly defaultListSize: number;
  /** Argument names read as page sizes on fields without `@listSize(slicingArguments:)`. */
  readonly slicingArgumentNames: readonly string[];
}

export interface CostIndex {
  readonly schema: GraphQLSchema;
  readonly defaultListSize: number;
  /** @internal */
  fieldCost(type: GraphQLCompositeType, field: GraphQLField<unknown, unknown>): FieldCost;
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * Builds the cost index of a supergraph from its directives (read once per load); `directives`
 * may be omitted (no `@cost` / `@listSize`).
 */
export function buildCostIndex(
  schema: GraphQLSchema,
  directives: SupergraphDirectives | undefined,
  options: CostIndexOptions,
): CostIndex {
  const costName = directives?.nameOf({ spec: 'cost', directive: 'cost' }) ?? 'cost';
  const listSizeName = directives?.nameOf({ spec: 'cost', directive: 'listSize' }) ?? 'listSize';
  const weightOf = (directive: ReturnType<typeof findDirective>) =>
    directive === undefined ? undefined : numberOrUndefined(argumentsOf(directive)['weight']);

  const compute = (type: GraphQLCompositeType, field: GraphQLField<unknown, unknown>): FieldCost => {
    const onType = directives?.types.get(type.name);
    const fieldDirectives = onType?.fields.get(field.name);
    const named = getNamedType(field.type);
    const weight =
      weightOf(findDirective(fieldDirectives, costName)) ??
      weightOf(findDirective(directives?.types.get(named.name)?.type, costName)) ??
      (isCompositeType(named) ? 1 : 0);
    let argumentWeights: Map<string, number> | undefined;
    for (const argument of field.args) {
      const argumentWeight = weightOf(findDirective(onType?.arguments.get(`${field.name}.${argument.name}`), costName));
      if (argumentWeight !== undefined) (argumentWeights ??= new Map()).set(argument.name, argumentWeight);
    }
    const listSize = findDirective(fieldDirectives, listSizeName);
    const listSizeArgs = listSize === undefined ? {} : argumentsOf(listSize);
    const declared = listSizeArgs['slicingArguments'];
    const slicingNames = Array.isArray(declared)
      ? declared.filter((name): name is string => typeof name === 'string')
      : options.slicingArgumentNames;
    const slicing = field.args
      .filter((argument) => slicingNames.includes(argument.name))
      .map((argument) => ({ name: argument.name, defaultValue: numberOrUndefined(argument.defaultValue) }));
    const sized = listSizeArgs['sizedFields'];
    return {
      weight,
      argumentWeights,
      isList: isListType(getNullableType(field.type)),
      slicing,
      assumedSize: numberOrUndefined(listSizeArgs['assumedSize']),
      sizedFields: Array.isArray(sized)
        ? new Set(sized.filter((name): name is string => typeof name === 'string'))
        : undefined,
    };
  };

  // Precomputed for every schema field; introspection meta fields are computed on first use.
  const byType = new Map<string, Map<string, FieldCost>>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || !(isObjectType(type) || isInterfaceType(type))) continue;
    const fields = new Map<string, FieldCost>();
    for (const field of Object.values(type.getFields())) fields.set(field.name, compute(type, field));
    byType.set(type.name, fields);
  }
  const meta = new Map<GraphQLField<unknown, unknown>, FieldCost>();

  return {
    schema,
    defaultListSize: options.defaultListSize,
    fieldCost(type, field) {
      const known = byType.get(type.name)?.get(field.name);
      if (known !== undefined) return known;
      let computed = meta.get(field);
      if (computed === undefined) meta.set(field, (computed = compute(type, field)));
      return computed;
    },
  };
}

export interface EstimateCostOptions {
  readonly index: CostIndex;
  readonly operation: OperationDefinitionNode;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  /** Request variables (raw JSON), for page sizes given as `$first` and `@skip(if: $x)`. */
  readonly variables?: Readonly<Record<string, unknown>> | null | undefined;
}

interface SizedContext {
  readonly names: ReadonlySet<string>;
  readonly size: number;
}

function resolveField(
  schema: GraphQLSchema,
  parentType: GraphQLCompositeType,
  name: string,
): GraphQLField<unknown, unknown> | undefined {
  // Introspection fields live outside `getFields()`; they must cost like any other field, or an
  // introspection bomb would be free.
  if (parentType === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return isObjectType(parentType) || isInterfaceType(parentType) ? parentType.getFields()[name] : undefined;
}

/**
 * Estimated cost of one operation. Work is linear in the document size times the possible
 * types of each abstract selection: every (selection set, type) pair is costed once, so
 * fragment bombs and deeply nested interfaces stay cheap to measure.
 */
export function estimateCost(options: EstimateCostOptions): number {
  const { index, operation, fragments } = options;
  const schema = index.schema;
  const variables = options.variables ?? {};
  const variableDefaults = new Map<string, unknown>();
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue !== undefined) {
      variableDefaults.set(definition.variable.name.value, valueFromASTUntyped(definition.defaultValue));
    }
  }
  const variableValue = (name: string): unknown => (name in variables ? variables[name] : variableDefaults.get(name));
  const numericValue = (value: ValueNode): number | undefined => {
    if (value.kind === Kind.INT) return Number(value.value);
    if (value.kind !== Kind.VARIABLE) return undefined;
    return numberOrUndefined(variableValue(value.name.value));
  };
  /** `@skip(if: true)` or `@include(if: false)`; a value we cannot read counts as included (upper bound). */
  const excluded = (directives: readonly DirectiveNode[] | undefined): boolean => {
    if (directives === undefined || directives.length === 0) return false;
    for (const directive of directives) {
      const name = directive.name.value;
      if (name !== 'skip' && name !== 'include') continue;
      const condition = directive.arguments?.find((argument) => argument.name.value === 'if')?.value;
      if (condition === undefined) continue;
      const value =
        condition.kind === Kind.BOOLEAN ? condition.value : condition.kind === Kind.VARIABLE ? variableValue(condition.name.value) : undefined;
      if (typeof value !== 'boolean') continue;
      if ((name === 'skip' && value) || (name === 'include' && !value)) return true;
    }
    return false;
  };

  const listSize = (cost: FieldCost, node: FieldNode): number => {
    let provided: number | undefined;
    let defaulted: number | undefined;
    for (const slicing of cost.slicing) {
      const argument = node.arguments?.find((candidate) => candidate.name.value === slicing.name);
      const value = argument === undefined ? undefined : numericValue(argument.value);
      if (value !== undefined) provided = Math.max(provided ?? 0, value);
      if (slicing.defaultValue !== undefined) defaulted = Math.max(defaulted ?? 0, slicing.defaultValue);
    }
    const size = provided ?? defaulted ?? cost.assumedSize ?? index.defaultListSize;
    return Math.max(0, Math.floor(size));
  };

  /** Does a fragment with type condition `condition` apply to an object of type `type`? */
  const applies = (condition: GraphQLCompositeType, type: GraphQLObjectType): boolean =>
    condition === type || (isAbstractType(condition) && schema.isSubType(condition, type));

  // (selection set, type, sized context) → cost. Fragment spreads reuse their definition's
  // selection set node, so a spread fragment is costed once per type it is spread on.
  const memo = new Map<SelectionSetNode, Map<string, number>>();
  const selectionCost = (selectionSet: SelectionSetNode, type: GraphQLCompositeType, sized: SizedContext | undefined): number => {
    const key = sized === undefined ? type.name : `${type.name}|${[...sized.names].join(',')}|${sized.size}`;
    let byKey = memo.get(selectionSet);
    if (byKey === undefined) memo.set(selectionSet, (byKey = new Map()));
    const known = byKey.get(key);
    if (known !== undefined) return known;
    byKey.set(key, 0); // provisional: a (never valid) fragment cycle terminates
    let cost = 0;
    if (isAbstractType(type)) {
      // Alternatives: the answer holds one concrete type per object; the dearest one counts.
      for (const possible of schema.getPossibleTypes(type)) cost = Math.max(cost, concreteCost(selectionSet, possible, sized));
    } else {
      cost = concreteCost(selectionSet, type, sized);
    }
    byKey.set(key, cost);
    return cost;
  };

  /** Cost of a selection set for an object of one concrete type: what applies to it adds up. */
  const concreteCost = (selectionSet: SelectionSetNode, type: GraphQLObjectType, sized: SizedContext | undefined): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (excluded(selection.directives)) continue;
      if (selection.kind === Kind.FIELD) {
        total = saturate(total + fieldCost(selection, type, sized));
        continue;
      }
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
      if (fragment === undefined) continue;
      const condition = fragment.typeCondition === undefined ? type : schema.getType(fragment.typeCondition.name.value);
      if (!isCompositeType(condition) || !applies(condition, type)) continue;
      total = saturate(total + selectionCost(fragment.selectionSet, type, sized));
    }
    return total;
  };

  const fieldCost = (node: FieldNode, parentType: GraphQLCompositeType, sized: SizedContext | undefined): number => {
    const name = node.name.value;
    if (name === '__typename') return 0;
    const definition = resolveField(schema, parentType, name);
    // Unknown field: validation rejects it; charge it like an object meanwhile.
    if (definition === undefined) return 1;
    const cost = index.fieldCost(parentType, definition);
    let argumentsCost = 0;
    if (cost.argumentWeights !== undefined) {
      for (const argument of node.arguments ?? []) argumentsCost += cost.argumentWeights.get(argument.name.value) ?? 0;
    }
    const named = getNamedType(definition.type);
    const childSized = cost.sizedFields === undefined ? undefined : { names: cost.sizedFields, size: listSize(cost, node) };
    const selection = node.selectionSet !== undefined && isCompositeType(named) ? selectionCost(node.selectionSet, named, childSized) : 0;
    const count = !cost.isList ? 1 : sized !== undefined && sized.names.has(name) ? sized.size : listSize(cost, node);
    return saturate(count * (cost.weight + selection) + argumentsCost);
  };

  const rootType = schema.getRootType(operation.operation);
  if (rootType == null) return 0;
  const base = operation.operation === 'mutation' ? MUTATION_BASE_COST : 0;
  return saturate(base + selectionCost(operation.selectionSet, rootType, undefined));
}

/**
 * Actual cost of an answer, in the estimator's unit: every object in `data` below its root
 * counts 1 (list items one each), plus {@link MUTATION_BASE_COST} for a mutation. With no
 * `@cost` weights in the supergraph, a correct estimate is never below it. One walk over the
 * answer, iterative (a deep answer cannot exhaust the stack).
 */
export function actualCost(data: unknown, operationType: string | undefined): number {
  let objects = 0;
  // One reused stack and `for…in` over own keys: `Object.values` allocated an array per object
  // of the answer (~20 % of the walk's time was that garbage).
  const pending: unknown[] = [];
  if (data !== null && typeof data === 'object') pushChildren(data, pending);
  while (pending.length > 0) {
    const value = pending.pop() as object;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (item !== null && typeof item === 'object') pending.push(item);
      }
      continue;
    }
    objects += 1;
    pushChildren(value, pending);
  }
  return (operationType === 'mutation' ? MUTATION_BASE_COST : 0) + objects;
}

const hasOwnProperty = Object.prototype.hasOwnProperty;

/** The object-valued own enumerable properties of `value` (what `Object.values` would list), onto `pending`. */
function pushChildren(value: object, pending: unknown[]): void {
  for (const key in value) {
    if (!hasOwnProperty.call(value, key)) continue;
    const child: unknown = (value as Record<string, unknown>)[key];
    if (child !== null && typeof child === 'object') pending.push(child);
  }
}
