import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  parse,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  valueFromASTUntyped,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import {
  argumentsOf,
  findDirective,
  readSupergraphDirectives,
  type SupergraphDirectives,
} from '../authorization/supergraphDirectives.ts';
import { saturate } from './measure.ts';

/**
 * Static cost estimate of an operation, from the schema and the supergraph's `@cost` /
 * `@listSize` (demand-control directives, federation 2.9+). Pure; the index is built once per
 * supergraph.
 *
 * Model (an upper bound, like Apollo's demand control):
 * - each field costs its weight: its own `@cost(weight:)`, else its return type's `@cost`,
 *   else 1; `__typename` costs 0 (answered by the gateway without a fetch); each provided
 *   argument with `@cost` adds its weight;
 * - a list field multiplies the cost of its selection set by its expected size: the largest
 *   provided slicing argument (literal or variable), else the largest slicing argument default,
 *   else `@listSize(assumedSize:)`, else the default list size; objects nested under lists
 *   therefore multiply;
 * - `@listSize(sizedFields:)` (connections) applies that size to the named child fields instead;
 * - fragments and inline fragments add up (type conditions are not intersected): conservative.
 */

/** Cost facts of one `Type.field`, read once from the supergraph. */
interface FieldCost {
  readonly weight: number;
  /** Weights of arguments with `@cost`, charged when the argument is provided. */
  readonly argumentWeights: ReadonlyMap<string, number> | undefined;
  /** Arguments whose value is the page size, with their schema defaults when numeric. */
  readonly slicing: readonly { readonly name: string; readonly defaultValue: number | undefined }[];
  readonly assumedSize: number | undefined;
  /** `@listSize(sizedFields:)`: child fields the size applies to. */
  readonly sizedFields: ReadonlySet<string> | undefined;
}

export interface CostIndexOptions {
  /** Size assumed for a list with no slicing argument value, default or `@listSize`. */
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

/** Builds the cost index of a supergraph; `supergraphSdl` may be omitted (all weights 1). */
export function buildCostIndex(
  schema: GraphQLSchema,
  supergraphSdl: string | undefined,
  options: CostIndexOptions,
): CostIndex {
  const directives: SupergraphDirectives | undefined =
    supergraphSdl === undefined ? undefined : readSupergraphDirectives(parse(supergraphSdl, { noLocation: true }));
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
      1;
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
  /** Request variables (raw JSON), for page sizes given as `$first`. */
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

/** Estimated cost of one operation; linear work in the document size (one memo per fragment). */
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
  const numericValue = (value: ValueNode): number | undefined => {
    if (value.kind === Kind.INT) return Number(value.value);
    if (value.kind !== Kind.VARIABLE) return undefined;
    const name = value.name.value;
    return numberOrUndefined(variables[name]) ?? numberOrUndefined(variableDefaults.get(name));
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

  const memo = new Map<string, number>();
  const selectionCost = (selectionSet: SelectionSetNode, parentType: GraphQLCompositeType, sized?: SizedContext): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        total = saturate(total + fieldCost(selection, parentType, sized));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parentType;
        if (isCompositeType(type)) total = saturate(total + selectionCost(selection.selectionSet, type, sized));
      } else {
        const name = selection.name.value;
        // The sized context changes a fragment's cost, so it is part of the memo key.
        const key = sized === undefined ? name : `${name}|${[...sized.names].join(',')}|${sized.size}`;
        let cost = memo.get(key);
        if (cost === undefined) {
          memo.set(key, 0); // provisional: a (never valid) cycle terminates
          const fragment = fragments.get(name);
          const type = fragment && schema.getType(fragment.typeCondition.name.value);
          cost = fragment && isCompositeType(type) ? selectionCost(fragment.selectionSet, type, sized) : 0;
          memo.set(key, cost);
        }
        total = saturate(total + cost);
      }
    }
    return total;
  };

  const fieldCost = (node: FieldNode, parentType: GraphQLCompositeType, sized: SizedContext | undefined): number => {
    const name = node.name.value;
    if (name === '__typename') return 0;
    const definition = resolveField(schema, parentType, name);
    // Unknown field: validation rejects it; charge it like a leaf meanwhile.
    if (definition === undefined) return 1;
    const cost = index.fieldCost(parentType, definition);
    let own = cost.weight;
    if (cost.argumentWeights !== undefined) {
      for (const argument of node.arguments ?? []) own += cost.argumentWeights.get(argument.name.value) ?? 0;
    }
    const named = getNamedType(definition.type);
    if (node.selectionSet === undefined || !isCompositeType(named)) return own;
    const multiplier =
      sized !== undefined && sized.names.has(name)
        ? sized.size
        : isListType(getNullableType(definition.type))
          ? listSize(cost, node)
          : 1;
    const childSized = cost.sizedFields === undefined ? undefined : { names: cost.sizedFields, size: listSize(cost, node) };
    return saturate(own + multiplier * selectionCost(node.selectionSet, named, childSized));
  };

  const rootType = schema.getRootType(operation.operation);
  return rootType == null ? 0 : selectionCost(operation.selectionSet, rootType);
}
