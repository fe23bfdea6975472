import { GraphQLError } from 'graphql';
import { AUTHORIZATION_TYPENAME_ALIAS, type RemovedField } from './types.ts';

/**
 * Puts removed fields back into a response as `null` + a coded error, the way GraphQL execution
 * would have reported a field error there: real list indices in the paths, nulls propagated
 * through non-null fields to the nearest nullable parent.
 *
 * The walk follows only the removed paths (a trie of them), never the whole response.
 */

/**
 * Concrete paths reported per removed field. A list of 1,000 products missing `costPrice` is
 * one fact; 10 examples plus `extensions.pathCount` say it without a 1,000-error response.
 */
export const MAX_ERROR_PATHS_PER_REMOVED_FIELD = 10;

type ResponsePath = (string | number)[];

interface TrieChild {
  /** The field at this key is non-null (identical for every entry through it: same response shape). */
  nonNull: boolean;
  /** Its wrappers without the outer `!`, e.g. `L!` for `[Product!]!`. */
  inner: string;
  /** Indices of removed fields ending at this key. */
  ends: number[];
  next: Trie | undefined;
}
type Trie = Map<string, TrieChild>;

function buildTrie(removed: readonly RemovedField[]): Trie {
  const root: Trie = new Map();
  removed.forEach((field, index) => {
    let level = root;
    field.path.forEach((key, depth) => {
      let child = level.get(key);
      if (child === undefined) {
        const wrappers = field.wrappers[depth] ?? '';
        const nonNull = wrappers.startsWith('!');
        child = { nonNull, inner: nonNull ? wrappers.slice(1) : wrappers, ends: [], next: undefined };
        level.set(key, child);
      }
      if (depth === field.path.length - 1) {
        child.ends.push(index);
      } else {
        level = child.next ??= new Map();
      }
    });
  });
  return root;
}

interface Sink {
  readonly mutate: boolean;
  readonly counts: number[];
  readonly paths: ResponsePath[][];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns true when `object` itself must become null (a non-null child was nulled). */
function walkObject(
  object: Record<string, unknown>,
  trie: Trie,
  removed: readonly RemovedField[],
  path: ResponsePath,
  isRoot: boolean,
  sink: Sink,
): boolean {
  const alias = object[AUTHORIZATION_TYPENAME_ALIAS];
  const typename = typeof alias === 'string' ? alias : undefined;
  if (sink.mutate) delete object[AUTHORIZATION_TYPENAME_ALIAS];
  let mustBeNull = false;
  for (const [key, child] of trie) {
    const { nonNull } = child;
    for (const index of child.ends) {
      const field = removed[index];
      // No alias means this object was not selected by the selection set the field was removed
      // from (another type, another branch). The root is always selected, and may be `{}` when
      // nothing was executed.
      const applies = typename === undefined ? isRoot : field !== undefined && field.possibleTypes.includes(typename);
      // A present key was produced by another selection with the same response name: keep it.
      if (!applies || Object.hasOwn(object, key)) continue;
      path.push(key);
      const count = (sink.counts[index] = (sink.counts[index] ?? 0) + 1);
      if (count <= MAX_ERROR_PATHS_PER_REMOVED_FIELD) (sink.paths[index] ??= []).push([...path]);
      path.pop();
      if (sink.mutate) object[key] = null;
      mustBeNull ||= nonNull;
      // One error per concrete path, even if two removed coordinates share the response key.
      break;
    }
    const value = object[key];
    if (child.next === undefined || value === null || value === undefined) continue;
    path.push(key);
    const nulled = walkValue(value, child.inner, child.next, removed, path, sink);
    path.pop();
    if (nulled) {
      if (sink.mutate) object[key] = null;
      mustBeNull ||= nonNull;
    }
  }
  return mustBeNull;
}

/** `wrappers` has the outer `!` stripped; returns true when `value` must become null. */
function walkValue(
  value: unknown,
  wrappers: string,
  trie: Trie,
  removed: readonly RemovedField[],
  path: ResponsePath,
  sink: Sink,
): boolean {
  if (!wrappers.startsWith('L')) {
    return isRecord(value) ? walkObject(value, trie, removed, path, false, sink) : false;
  }
  if (!Array.isArray(value)) return false;
  const itemWrappers = wrappers.slice(1);
  const itemNonNull = itemWrappers.startsWith('!');
  const inner = itemNonNull ? itemWrappers.slice(1) : itemWrappers;
  let mustBeNull = false;
  // Walk every item even once the list is doomed: each one still owes its error.
  for (let i = 0; i < value.length; i += 1) {
    const item: unknown = value[i];
    if (item === null || item === undefined) continue;
    path.push(i);
    const nulled = walkValue(item, inner, trie, removed, path, sink);
    path.pop();
    if (!nulled) continue;
    if (itemNonNull) mustBeNull = true;
    else if (sink.mutate) value[i] = null;
  }
  return mustBeNull;
}

function run(data: unknown, removed: readonly RemovedField[], mutate: boolean): { data: unknown; sink: Sink } {
  const sink: Sink = { mutate, counts: [], paths: [] };
  if (!isRecord(data) || removed.length === 0) return { data, sink };
  const trie = buildTrie(removed.filter((field) => field.path.length > 0));
  const rootMustBeNull = walkObject(data, trie, removed, [], true, sink);
  return { data: rootMustBeNull && mutate ? null : data, sink };
}

/**
 * Sets `null` wherever a removed field would have been in `data` (walking lists), propagates the
 * null through non-null fields like execution does, and deletes the helper
 * {@link AUTHORIZATION_TYPENAME_ALIAS} keys. Mutates `data` in place (the gateway's result is
 * fresh per request) and returns it, or `null` when the null reached the root.
 *
 * When nothing was executed (`nothingToExecute`), pass `{}` to get the root fields as nulls.
 * Call {@link errorsForRemoved} first (or use {@link applyRemovedFields}): after nulling, the
 * paths below a propagated null are gone.
 */
export function nullRemovedFields<T>(data: T, removed: readonly RemovedField[]): T | null {
  return run(data, removed, true).data as T | null;
}

function makeErrors(removed: readonly RemovedField[], sink: Sink, executed: boolean): GraphQLError[] {
  const errors: GraphQLError[] = [];
  removed.forEach((field, index) => {
    const message = `Not authorized to access ${field.coordinate}: ${field.reason}`;
    const pathCount = sink.counts[index] ?? 0;
    if (!executed) {
      // Nothing ran (rejected): a request-level error without a path.
      errors.push(new GraphQLError(message, { extensions: { code: field.code } }));
      return;
    }
    for (const path of sink.paths[index] ?? []) {
      errors.push(new GraphQLError(message, { path, extensions: { code: field.code, pathCount } }));
    }
  });
  return errors;
}

/**
 * One error per concrete response path of each removed field (at most
 * {@link MAX_ERROR_PATHS_PER_REMOVED_FIELD}; `extensions.pathCount` has the total), with
 * `extensions.code` `UNAUTHENTICATED` or `FORBIDDEN`. A removed field whose parent never
 * appeared in `data` (null parent, other type) gets no error: nothing was withheld there.
 * With `data` null or undefined (rejected, not executed) each removed field gets one pathless
 * error. Does not modify `data`.
 */
export function errorsForRemoved(data: unknown, removed: readonly RemovedField[]): GraphQLError[] {
  if (data === null || data === undefined) return makeErrors(removed, { mutate: false, counts: [], paths: [] }, false);
  return makeErrors(removed, run(data, removed, false).sink, true);
}

/**
 * {@link errorsForRemoved} and {@link nullRemovedFields} in one walk; the recommended call.
 * Mutates `data` in place.
 */
export function applyRemovedFields<T>(
  data: T,
  removed: readonly RemovedField[],
): { data: T | null; errors: GraphQLError[] } {
  if (data === null || data === undefined) return { data, errors: errorsForRemoved(data, removed) };
  const { data: result, sink } = run(data, removed, true);
  return { data: result as T | null, errors: makeErrors(removed, sink, true) };
}
