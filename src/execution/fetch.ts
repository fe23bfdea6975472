/**
 * The pure parts of a fetch, compiled once per fetch node of a cached plan: building entity
 * representations from the `requires` selection, the plan's input/output rewrites, merging an
 * answer into the response, error paths and the subgraph-error translation. Each follows
 * @apollo/gateway's executeQueryPlan.js / dataRewrites.js / deepMerge.js to the letter, because
 * the differential suite holds Portico to that gateway's answers; what changes is when the work is
 * done (type relations resolved once and memoised, not per entity).
 */
import { ERRORS, errorCodeDef } from '@apollo/federation-internals';
import type { FetchDataRewrite, QueryPlanSelectionNode } from '@apollo/query-planner';
import { GraphQLError, isAbstractType, isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';
import { extend } from '../runtime/objects.ts';

export type ResponsePath = (string | number)[];

/**
 * The prototype of the objects the executor builds (response data, representations, a fetch's
 * variables): empty, frozen, and itself without a prototype, so a response name such as
 * `__proto__` or `constructor` stays a plain own property, exactly as with `Object.create(null)`.
 * Unlike `Object.create(null)`, whose objects V8 keeps in dictionary mode, objects made by one
 * constructor share hidden classes: a product page's data builds ~2× faster, is smaller, and
 * `JSON.stringify` (the response, every representation sent) takes its fast path (~2×).
 */
function ExecutorObject(): void {}
ExecutorObject.prototype = Object.freeze(Object.create(null));
const Plain = ExecutorObject as unknown as new () => Record<string, any>;

/** A new empty object with no `Object.prototype` behind it (see {@link ExecutorObject}). */
export function plainObject(): Record<string, any> {
  return new Plain();
}

const hasOwnProperty = Object.prototype.hasOwnProperty;
export function hasOwn(obj: object, prop: string): boolean {
  return hasOwnProperty.call(obj, prop);
}
export function getOwn(obj: any, prop: string): any {
  return hasOwnProperty.call(obj, prop) ? obj[prop] : undefined;
}
function defineOwn(obj: any, prop: string): void {
  if (!hasOwnProperty.call(obj, prop) && prop in obj) Object.defineProperty(obj, prop, { configurable: true, enumerable: true, value: undefined, writable: true });
}
function isObject(value: unknown): value is Record<string, any> {
  return value !== undefined && value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** @apollo/gateway's `deepMerge`: source's values into target, objects and equal-length lists element-wise. */
export function deepMerge(target: any, source: any): any {
  if (source === undefined || source === null) return target;
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value === undefined) continue;
    defineOwn(target, key);
    const existing = target[key];
    if (existing && isObject(value)) {
      deepMerge(existing, value);
    } else if (Array.isArray(value) && Array.isArray(existing) && value.length === existing.length) {
      for (let i = 0; i < value.length; i++) {
        if (isObject(existing[i]) && isObject(value[i])) deepMerge(existing[i], value[i]);
        else existing[i] = value[i];
      }
    } else {
      target[key] = value;
    }
  }
  return target;
}

/**
 * `isObjectOfType` of dataRewrites.js, memoised per (typename, condition) for one schema: the
 * answer depends only on the two names.
 */
export function objectOfTypeTester(schema: GraphQLSchema): (obj: any, typeCondition: string, defaultOnUnknownObjectType?: boolean) => boolean {
  const memo = new Map<string, boolean>();
  return (obj, typeCondition, defaultOnUnknownObjectType = false) => {
    const typename = obj['__typename'];
    if (!typename) return defaultOnUnknownObjectType;
    if (typeCondition === typename) return true;
    const key = `${typename}\u0000${typeCondition}`;
    let yes = memo.get(key);
    if (yes === undefined) {
      const type = schema.getType(typename);
      const condition = type && schema.getType(typeCondition);
      yes = !!type && !!condition && isAbstractType(condition) && (isObjectType(type) || isInterfaceType(type)) && schema.isSubType(condition, type);
      memo.set(key, yes);
    }
    return yes;
  };
}

type ObjectOfType = ReturnType<typeof objectOfTypeTester>;
/** Builds one entity's representation; null when a required field is missing. */
export type RepresentationFn = (entity: any) => any;

/** executeQueryPlan.js's `executeSelectionSet` over a fetch's `requires`, compiled once. */
export function compileRequires(selections: readonly QueryPlanSelectionNode[], isOfType: ObjectOfType): RepresentationFn {
  type Step = (source: any, result: any) => boolean; // false: the representation is null
  const steps: Step[] = selections.map((selection): Step => {
    if (selection.kind === 'Field') {
      const responseName = selection.alias ?? selection.name;
      const sub = selection.selections ? compileRequires(selection.selections, isOfType) : undefined;
      return (source, result) => {
        if (!hasOwnProperty.call(source, responseName) || typeof source[responseName] === 'undefined') return false;
        const value = source[responseName];
        if (Array.isArray(value)) result[responseName] = sub ? value.map((v) => sub(v)) : value.slice();
        else result[responseName] = sub ? sub(value) : value;
        return true;
      };
    }
    const typeCondition = selection.typeCondition;
    if (!typeCondition) return () => true;
    const sub = compileRequires(selection.selections, isOfType);
    return (source, result) => {
      if (source && isOfType(source, typeCondition)) deepMerge(result, sub(source));
      return true;
    };
  });
  const n = steps.length;
  return (source) => {
    if (source === null) return null;
    const result = plainObject();
    for (let i = 0; i < n; i++) if (!steps[i]!(source, result)) return null;
    return result;
  };
}

/** A fetch's rewrites (`inputRewrites`/`outputRewrites`), compiled once; a no-op when there are none. */
export type RewriteFn = (value: any) => void;
const FRAGMENT_PREFIX = '... on ';

export function compileRewrites(rewrites: readonly FetchDataRewrite[] | undefined, isOfType: ObjectOfType): RewriteFn | undefined {
  if (!rewrites || rewrites.length === 0) return undefined;
  const each = rewrites.map((rewrite) => compileRewrite(rewrite, isOfType)).filter((f): f is RewriteFn => f !== undefined);
  return (value) => {
    for (const f of each) f(value);
  };
}

function compileRewrite(rewrite: FetchDataRewrite, isOfType: ObjectOfType): RewriteFn | undefined {
  if (rewrite.path.length === 0) return undefined;
  const parent = rewrite.path.slice(0, -1);
  const last = rewrite.path[rewrite.path.length - 1]!;
  if (last.startsWith(FRAGMENT_PREFIX)) throw new Error(`Unexpected fragment as last element of ${rewrite.path.join(',')}`);
  const atPath: (obj: any) => void =
    rewrite.kind === 'ValueSetter'
      ? (obj) => {
          defineOwn(obj, last);
          obj[last] = rewrite.setValueTo;
        }
      : (obj) => {
          const objAtPath = getOwn(obj, last);
          if (objAtPath) {
            defineOwn(obj, rewrite.renameKeyTo);
            obj[rewrite.renameKeyTo] = objAtPath;
            obj[last] = undefined;
          }
        };
  const apply = (path: readonly string[], i: number, value: any): void => {
    if (Array.isArray(value)) {
      for (const v of value) apply(path, i, v);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    if (i === path.length) {
      atPath(value);
      return;
    }
    const element = path[i]!;
    if (element.startsWith(FRAGMENT_PREFIX)) {
      if (isOfType(value, element.slice(FRAGMENT_PREFIX.length), true)) apply(path, i + 1, value);
    } else {
      apply(path, i + 1, getOwn(value, element));
    }
  };
  return (value) => apply(parent, 0, value);
}

/** executeQueryPlan.js's `flattenResultsAtPath`: the values a Flatten node's path reaches. */
export function flattenResultsAtPath(value: any, path: readonly (string | number)[], from = 0): any {
  if (from === path.length) return value;
  if (value === undefined || value === null) return value;
  const current = path[from]!;
  if (current === '@') {
    // Not an array: fail as the original's `value.flatMap` does.
    if (!Array.isArray(value)) return (value as any[]).flatMap(() => []);
    const out: any[] = [];
    for (const element of value) appendFlattened(out, element, path, from + 1);
    return out;
  }
  if (typeof current !== 'string') throw new Error(`Unexpected ${typeof current} found in path`);
  if (Array.isArray(value)) throw new Error(`Unexpected array in result for path element ${current}`);
  return flattenResultsAtPath(getOwn(value, current), path, from + 1);
}

/**
 * Appends what `flattenResultsAtPath(value, path, from)` returns to `out` as `flatMap` would (an
 * array's elements, anything else itself), without building that array: nested `@` levels of a
 * large answer made one array per element per level (~6 % of the CPU of the public benchmark).
 */
function appendFlattened(out: any[], value: any, path: readonly (string | number)[], from: number): void {
  if (from === path.length || value === undefined || value === null) {
    if (Array.isArray(value)) for (const element of value) out.push(element);
    else out.push(value);
    return;
  }
  const current = path[from]!;
  if (current === '@') {
    if (!Array.isArray(value)) (value as any[]).flatMap(() => []);
    for (const element of value) appendFlattened(out, element, path, from + 1);
    return;
  }
  if (typeof current !== 'string') throw new Error(`Unexpected ${typeof current} found in path`);
  if (Array.isArray(value)) throw new Error(`Unexpected array in result for path element ${current}`);
  appendFlattened(out, getOwn(value, current), path, from + 1);
}

/** executeQueryPlan.js's `generateHydratedPaths`: the concrete response path of every entity of a flattened fetch. */
export function generateHydratedPaths(parent: ResponsePath, path: readonly (string | number)[], data: any, result: ResponsePath[]): void {
  const head = path[0];
  if (data == null) return;
  if (head == null) {
    result.push(parent.slice());
  } else if (head === '@') {
    if (!Array.isArray(data)) throw new Error('expected array when encountering `@`');
    for (const [i, value] of data.entries()) {
      parent.push(i);
      generateHydratedPaths(parent, path.slice(1), value, result);
      parent.pop();
    }
  } else if (typeof head === 'string') {
    if (Array.isArray(data)) {
      for (const [i, value] of data.entries()) {
        parent.push(i);
        generateHydratedPaths(parent, path, value, result);
        parent.pop();
      }
    } else if (hasOwn(data, head)) {
      parent.push(head);
      generateHydratedPaths(parent, path.slice(1), data[head], result);
      parent.pop();
    }
  } else {
    throw new Error(`unknown path part "${String(head)}"`);
  }
}

/** executeQueryPlan.js's `makeLazyErrorPathGenerator`: a subgraph error's path in the client's response. */
export function errorPathGenerator(hasRequires: boolean, cursorPath: ResponsePath, fullResult: unknown): (errorPath: readonly (string | number)[] | undefined) => ResponsePath | undefined {
  let hydrated: ResponsePath[] | undefined;
  return (errorPath) => {
    if (hasRequires && typeof errorPath?.[1] === 'number') {
      if (!hydrated) {
        hydrated = [];
        generateHydratedPaths([], cursorPath, fullResult, hydrated);
      }
      return [...(hydrated[errorPath[1]] ?? []), ...errorPath.slice(2)];
    }
    return errorPath ? [...cursorPath, ...errorPath.slice()] : undefined;
  };
}

/** executeQueryPlan.js's `downstreamServiceError`: a subgraph's error as the client sees it. */
export function downstreamServiceError(original: any, serviceName: string, pathOf: (p: readonly (string | number)[] | undefined) => ResponsePath | undefined): GraphQLError {
  let { message } = original;
  const { extensions } = original;
  if (!message) message = `Error while fetching subquery from service "${serviceName}"`;
  const options = { originalError: original, path: pathOf(original.path), extensions: extend(extensions, { serviceName }) };
  const codeDef = errorCodeDef(original);
  if (!codeDef && extensions?.code) return new GraphQLError(message, options);
  return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}
