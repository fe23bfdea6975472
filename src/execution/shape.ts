/**
 * Final shaping, compiled once per operation: the merged subgraph answers become the response
 * the client asked for (aliases, `__typename`, abstract types, `@skip`/`@include`, null
 * propagation with its errors). The semantics are exactly those of @apollo/gateway's
 * `computeResponse` (resultShaping.js), which walks federation-internals' operation model on
 * every request, reads each selection's directives, field definition and response name, and
 * re-derives type relations. Here that walk happens once, when the plan is first used, and leaves
 * a tree of closures that only touch the data; type relations met at run time are memoised.
 */
import {
  ERRORS,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
  isEnumType,
  isScalarType,
  isSubtype,
  typenameFieldName,
  Variable,
  type CompositeType,
  type Directive,
  type FieldSelection,
  type NamedType,
  type Operation,
  type Schema,
  type Selection,
  type SelectionSet,
  type Type,
} from '@apollo/federation-internals';
import type { GraphQLError, SelectionNode } from 'graphql';
import { plainObject } from './fetch.ts';

/** What one shaping run carries: the request's variables (defaults applied) and its errors. */
export interface ShapeRun {
  readonly variables: Record<string, unknown>;
  readonly errors: GraphQLError[];
  /** Answers one introspection field (`__schema`, `__type`) of the operation. */
  readonly introspect: (selection: SelectionNode) => unknown;
  /** Out-parameter of the value updaters: INVALID / HAS_ERRORS of the last call. */
  flags: number;
}

const INVALID = 1;
const HAS_ERRORS = 2;
/** Returned by a selection-set function when a null must bubble up to the parent. */
const BUBBLE = true;

type Path = (string | number)[];
/** Shapes `input` into `output`; true when a non-null violation bubbles up. */
type SetFn = (input: any, output: any, path: Path, parentType: CompositeType, run: ShapeRun) => boolean;
/** One value of a field: returns the updated value; sets `run.flags`. */
type ValueFn = (outputValue: any, inputValue: any, path: Path, parentType: CompositeType, run: ShapeRun) => unknown;
/** `@skip`/`@include` condition: true when the selection is skipped for these variables. */
type SkipFn = (variables: Record<string, unknown>) => boolean;

export interface CompiledShape {
  /** The data of the response, and the value-completion errors found on the way. */
  shape(input: Record<string, unknown>, variables: Record<string, unknown> | undefined, introspect: ShapeRun['introspect']): { data: unknown; errors: GraphQLError[] };
}

/** Compiles the shaping of one operation (as @apollo/gateway's executor builds it, `validate: false`). */
export function compileShape(operation: Operation): CompiledShape {
  const schema = operation.schema();
  const rootType = schema.schemaDefinition.rootType(operation.rootKind) as unknown as CompositeType;
  const defaults = operation.collectDefaultedVariableValues();
  const typeByName = memoByName(schema);
  const root = compileSet(operation.selectionSet, schema, typeByName);
  return {
    shape(input, variables, introspect) {
      const run: ShapeRun = { variables: { __proto__: null, ...defaults, ...variables }, errors: [], introspect, flags: 0 };
      const data = plainObject();
      const bubbled = root(input, data, [], rootType, run);
      return { data: bubbled ? null : data, errors: run.errors };
    },
  };
}

/** `schema.type(name)` memoised: the schema of a compiled plan never changes. */
function memoByName(schema: Schema): (name: string) => NamedType | undefined {
  const known = new Map<string, NamedType | undefined>();
  return (name) => {
    if (known.has(name)) return known.get(name);
    const type = schema.type(name);
    known.set(name, type);
    return type;
  };
}

function compileSet(selectionSet: SelectionSet, schema: Schema, typeByName: (name: string) => NamedType | undefined): SetFn {
  const entries: SetFn[] = selectionSet.selections().map((selection) => compileSelection(selection, schema, typeByName));
  const n = entries.length;
  return (input, output, path, parentType, run) => {
    for (let i = 0; i < n; i++) if (entries[i]!(input, output, path, parentType, run)) return BUBBLE;
    return false;
  };
}

function compileSelection(selection: Selection, schema: Schema, typeByName: (name: string) => NamedType | undefined): SetFn {
  const skipped = compileSkip(selection, schema);
  if (selection.kind === 'FieldSelection') return withSkip(skipped, compileField(selection, schema, typeByName));
  const typeCondition = selection.element.typeCondition;
  const sub = compileSet(selection.selectionSet, schema, typeByName);
  if (!typeCondition) {
    return withSkip(skipped, (input, output, path, parentType, run) => {
      checkTypename(input[typenameFieldName]);
      return sub(input, output, path, parentType, run);
    });
  }
  const byTypename = new Map<string, boolean>();
  const byParent = new Map<CompositeType, boolean>();
  const applies = (typename: string | undefined, parentType: CompositeType): boolean => {
    if (typename) {
      let yes = byTypename.get(typename);
      if (yes === undefined) {
        const type = typeByName(typename);
        yes = !!type && isSubtype(typeCondition, type);
        byTypename.set(typename, yes);
      }
      return yes;
    }
    let yes = byParent.get(parentType);
    if (yes === undefined) {
      yes = isSubtype(typeCondition, parentType);
      byParent.set(parentType, yes);
    }
    return yes;
  };
  return withSkip(skipped, (input, output, path, parentType, run) => {
    const typename = input[typenameFieldName];
    checkTypename(typename);
    return applies(typename, parentType) ? sub(input, output, path, typeCondition, run) : false;
  });
}

function checkTypename(typename: unknown): void {
  if (typename && typeof typename !== 'string') throw new Error(`Got unexpected value for __typename: ${String(typename)}`);
}

function withSkip(skipped: SkipFn | undefined, fn: SetFn): SetFn {
  if (!skipped) return fn;
  return (input, output, path, parentType, run) => (skipped(run.variables) ? false : fn(input, output, path, parentType, run));
}

/** The `@skip`/`@include` of a selection, as resultShaping's `shouldSkip`, or undefined when it has neither. */
function compileSkip(selection: Selection, schema: Schema): SkipFn | undefined {
  const element = selection.element as unknown as { appliedDirectivesOf(d: unknown): Directive<any, { if: unknown }>[] };
  const skip = element.appliedDirectivesOf(schema.skipDirective())[0];
  const include = element.appliedDirectivesOf(schema.includeDirective())[0];
  if (!skip && !include) return undefined;
  const skipIf = skip && ifValue(skip);
  const includeIf = include && ifValue(include);
  return (variables) => !!((skipIf && skipIf(variables)) || (includeIf && !includeIf(variables)));
}

function ifValue(directive: Directive<any, { if: unknown }>): SkipFn {
  const arg = directive.arguments().if;
  if (arg instanceof Variable) {
    const name = arg.name;
    return (variables) => {
      const value = variables[name];
      if (value === undefined || typeof value !== 'boolean') throw new Error(`Unexpected value ${String(value)} for variable ${arg.toString()} of ${directive.toString()}`);
      return value;
    };
  }
  return () => !!arg;
}

function compileField(selection: FieldSelection, schema: Schema, typeByName: (name: string) => NamedType | undefined): SetFn {
  const field = selection.element;
  const responseName = field.responseName();
  if (field.definition.isSchemaIntrospectionField()) {
    const node = selection.expandFragments().toSelectionNode();
    return (_input, output, _path, _parentType, run) => {
      if (output[responseName] === undefined) output[responseName] = run.introspect(node);
      return false;
    };
  }
  if (field.name === typenameFieldName) {
    return (input, output, _path, parentType, _run) => {
      if (output[responseName] !== undefined) return false;
      let inputValue = getOwn(input, responseName) ?? null;
      if (inputValue === null && responseName !== typenameFieldName) inputValue = input[typenameFieldName] ?? null;
      const type = inputValue !== null && typeof inputValue === 'string' ? (typeByName(inputValue) ?? parentType) : parentType;
      if (!isObjectType(type)) return BUBBLE;
      output[responseName] = type.name;
      return false;
    };
  }
  const value = compileValue(field.definition.type!, selection.selectionSet, schema, typeByName);
  return (input, output, path, parentType, run) => {
    const inputValue = getOwn(input, responseName) ?? null;
    path.push(responseName);
    output[responseName] = value(output[responseName], inputValue, path, parentType, run);
    path.pop();
    return (run.flags & INVALID) !== 0;
  };
}

/** resultShaping's `updateOutputValue`, unrolled for one field type. */
function compileValue(type: Type, selectionSet: SelectionSet | undefined, schema: Schema, typeByName: (name: string) => NamedType | undefined): ValueFn {
  const hasSelections = selectionSet !== undefined;
  if (isNonNullType(type)) {
    const inner = compileValue(type.ofType, selectionSet, schema, typeByName);
    const innerName = String(type.ofType);
    return (outputValue, inputValue, path, parentType, run) => {
      if (outputValue === null || (outputValue !== undefined && !hasSelections)) {
        run.flags = 0;
        return outputValue;
      }
      const updated = inner(outputValue, inputValue, path, parentType, run);
      if (updated === null) {
        if ((run.flags & HAS_ERRORS) === 0) {
          run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Cannot return null for non-nullable ${describeLast(path, innerName, parentType)}.`, { path: Array.from(path) }));
        }
        run.flags = INVALID | HAS_ERRORS;
        return null;
      }
      run.flags = 0;
      return updated;
    };
  }
  if (isListType(type)) {
    const inner = compileValue(type.ofType, selectionSet, schema, typeByName);
    const typeName = String(type);
    return (outputValue, inputValue, path, parentType, run) => {
      run.flags = 0;
      if (outputValue === null || (outputValue !== undefined && !hasSelections)) return outputValue;
      if (inputValue === null) return null;
      if (!Array.isArray(inputValue)) throw new Error(`Invalid non-list value ${String(inputValue)} returned by subgraph for list type ${typeName}`);
      if (outputValue !== undefined && !Array.isArray(outputValue)) throw new Error(`Invalid non-list value ${String(outputValue)} returned by subgraph for list type ${typeName}`);
      const n = inputValue.length;
      if (outputValue !== undefined && outputValue.length !== n) throw new Error(`[${String(inputValue)}].length (${n}) !== [${String(outputValue)}].length (${outputValue.length})`);
      const updated = new Array(n);
      let nullify = false;
      let hasErrors = false;
      for (let i = 0; i < n; i++) {
        path.push(i);
        updated[i] = inner(outputValue === undefined ? undefined : outputValue[i], inputValue[i], path, parentType, run);
        path.pop();
        if (run.flags & INVALID) nullify = true;
        if (run.flags & HAS_ERRORS) hasErrors = true;
      }
      run.flags = hasErrors ? HAS_ERRORS : 0;
      return nullify ? null : updated;
    };
  }
  if (isCompositeType(type)) {
    // A validated operation always selects into a composite field; were it not to, fail as
    // @apollo/gateway does: when a value arrives, not when the plan is compiled.
    const sub: SetFn = selectionSet
      ? compileSet(selectionSet, schema, typeByName)
      : () => {
          throw new Error(`Invalid empty selection set for composite type ${String(type)}`);
        };
    const typeName = String(type);
    return (outputValue, inputValue, path, parentType, run) => {
      run.flags = 0;
      if (outputValue === null || (outputValue !== undefined && !hasSelections)) return outputValue;
      if (inputValue === null) return null;
      if (typeof inputValue !== 'object') throw new Error(`Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${typeName}`);
      if (outputValue !== undefined && typeof outputValue !== 'object') throw new Error(`Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${typeName}`);
      const inputTypename = inputValue[typenameFieldName];
      if (inputTypename !== undefined && typeof inputTypename !== 'string') throw new Error(`Invalid non-string value ${String(inputTypename)} for __typename at ${String(path)}`);
      let objType: CompositeType = type;
      if (inputTypename) {
        const named = typeByName(inputTypename);
        if (!named || !isCompositeType(named)) {
          run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid __typename found for object at ${describeLast(path, typeName, parentType)}.`, { path: Array.from(path) }));
          run.flags = HAS_ERRORS;
          return null;
        }
        objType = named;
      }
      const out = outputValue === undefined ? plainObject() : outputValue;
      if (sub(inputValue, out, path, objType, run)) {
        run.flags = HAS_ERRORS;
        return null;
      }
      run.flags = 0;
      return out;
    };
  }
  const typeName = String(type);
  const isValid = leafValidator(schema, type);
  return (outputValue, inputValue, path, parentType, run) => {
    run.flags = 0;
    if (outputValue === null || outputValue !== undefined) return outputValue;
    if (inputValue === null) return null;
    if (!isValid(inputValue)) {
      run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid value found for ${describeLast(path, typeName, parentType)}.`, { path: Array.from(path) }));
      run.flags = HAS_ERRORS;
      return null;
    }
    return inputValue;
  };
}

/**
 * federation-internals' `isValidLeafValue(schema, value, type)` for one leaf type, its type tests
 * made once: custom scalars take anything, built-in ones their JSON kinds, enums their names.
 */
function leafValidator(schema: Schema, type: Type): (value: unknown) => boolean {
  const t = type as NamedType;
  if (isScalarType(t) && !['Int', 'Float', 'String', 'Boolean', 'ID'].includes(t.name)) return () => true;
  const isBoolean = t === schema.booleanType();
  const isInt = t === schema.intType();
  const isFloat = t === schema.floatType();
  const isIntOrId = isInt || t === schema.idType();
  const enumValues = isEnumType(t) ? new Set(t.values.map((v) => v.name)) : undefined;
  const stringOk = !isBoolean && !isInt && !isFloat;
  return (value) => {
    switch (typeof value) {
      case 'boolean':
        return isBoolean;
      case 'number':
        if (!isFinite(value)) return false;
        // Written as federation-internals' `INTEGER_STRING.test(String(value))`: a finite number
        // prints as an integer string exactly when it is an integer below 1e21 in magnitude.
        return isIntOrId ? Number.isInteger(value) && Math.abs(value) < 1e21 : isFloat;
      case 'string':
        return enumValues ? enumValues.has(value) : stringOk;
      default:
        return false;
    }
  };
}

/** resultShaping's `pathLastElementDescription`. */
function describeLast(path: Path, currentType: string, parentType: CompositeType): string {
  const element = path[path.length - 1];
  return typeof element === 'string' ? `field ${String(parentType)}.${element}` : `array element of type ${currentType} at index ${String(element)}`;
}

const hasOwnProperty = Object.prototype.hasOwnProperty;
function getOwn(obj: any, prop: string): any {
  return hasOwnProperty.call(obj, prop) ? obj[prop] : undefined;
}
