import {
  Kind,
  Lexer,
  Source,
  TokenKind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * Pure measurements of an operation document: no schema, no I/O.
 *
 * Every count that expands fragments is computed with one memo entry per fragment, so a
 * "fragment bomb" (each fragment spreading the previous one twice) costs linear work while its
 * measured figure grows exponentially, and is rejected by it. Figures saturate at
 * `Number.MAX_SAFE_INTEGER` instead of overflowing.
 */

export function saturate(value: number): number {
  return value > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : value;
}

/** UTF-8 size of the document text, without copying it. */
export function documentBytes(source: string): number {
  return Buffer.byteLength(source, 'utf8');
}

/**
 * Counts lexical tokens (punctuators, names, values; not commas, whitespace or comments, as in
 * graphql-js' own `maxTokens`), stopping at `limit + 1`: a flood costs at most `limit` tokens of
 * lexing. A lexing error stops the count; the parser reports it.
 */
export function countTokens(source: string, limit: number): number {
  const lexer = new Lexer(new Source(source));
  let count = 0;
  try {
    while (count <= limit) {
      if (lexer.advance().kind === TokenKind.EOF) break;
      count += 1;
    }
  } catch {
    // Syntax error: not ours to report.
  }
  return count;
}

export interface StructureFigures {
  /** Deepest field nesting; `{ a { b } }` is 2. */
  readonly depth: number;
  /** Aliased fields, fragments expanded at every spread. */
  readonly aliases: number;
  /** Fields in the root selection set, fragments expanded. */
  readonly rootFields: number;
}

interface SelectionStats {
  depth: number;
  aliases: number;
  /** Fields directly in this selection set (through fragments), i.e. at the same level. */
  fields: number;
}

const ZERO: SelectionStats = Object.freeze({ depth: 0, aliases: 0, fields: 0 });

export function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return fragments;
}

/**
 * The operations limits apply to: the named (or only) one; when it cannot be determined, all of
 * them (execution will refuse the request anyway, but never before we have measured it).
 */
export function operationsToMeasure(
  document: DocumentNode,
  operationName: string | null | undefined,
): OperationDefinitionNode[] {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  const selected =
    operationName != null
      ? operations.filter((operation) => operation.name?.value === operationName)
      : operations.length === 1
        ? operations
        : [];
  return selected.length > 0 ? selected : operations;
}

/** Depth, aliases and root fields of one operation, in time linear in the document size. */
export function measureStructure(
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): StructureFigures {
  const memo = new Map<string, SelectionStats>();
  const visit = (selectionSet: SelectionSetNode): SelectionStats => {
    const stats: SelectionStats = { depth: 0, aliases: 0, fields: 0 };
    const absorb = (inner: SelectionStats) => {
      stats.depth = Math.max(stats.depth, inner.depth);
      stats.aliases = saturate(stats.aliases + inner.aliases);
      stats.fields = saturate(stats.fields + inner.fields);
    };
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        stats.fields = saturate(stats.fields + 1);
        if (selection.alias !== undefined) stats.aliases = saturate(stats.aliases + 1);
        const inner = selection.selectionSet === undefined ? ZERO : visit(selection.selectionSet);
        stats.depth = Math.max(stats.depth, 1 + inner.depth);
        stats.aliases = saturate(stats.aliases + inner.aliases);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        absorb(visit(selection.selectionSet));
      } else {
        const name = selection.name.value;
        let inner = memo.get(name);
        if (inner === undefined) {
          // Provisional zero while descending: a (never valid) cycle terminates instead of looping.
          memo.set(name, ZERO);
          const fragment = fragments.get(name);
          inner = fragment === undefined ? ZERO : visit(fragment.selectionSet);
          memo.set(name, inner);
        }
        absorb(inner);
      }
    }
    return stats;
  };
  const root = visit(operation.selectionSet);
  return { depth: root.depth, aliases: root.aliases, rootFields: root.fields };
}
