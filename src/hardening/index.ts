import type { DocumentNode, FragmentDefinitionNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { supergraphDirectivesOf, type SupergraphDirectives } from '../supergraph/directives.ts';
import { ErrorCode } from '../errors/catalogue.ts';
import { buildCostIndex, estimateCost } from './cost.ts';
import { OperationLimitError, type OperationLimitCode } from './errors.ts';
import { countTokens, documentBytes, fragmentsOf, measureStructure, operationsToMeasure } from './measure.ts';

/**
 * Query limits, checked before planning: size and tokens before parsing, then depth, aliases,
 * root fields and estimated cost. Every violation is a coded 400 ({@link OperationLimitError}).
 */

/** 32 KiB: hand-written operations are a few KiB, generated ones with fragments ~10 KiB; 3× headroom bounds parse work. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 32 * 1024;
/** 2,000 tokens: a ~300-field operation; parse time is linear in tokens, so this bounds it. */
export const DEFAULT_MAX_TOKENS = 2_000;
/** 12 levels: product UIs nest ≤ 8 (connections add two per level); deeper is a depth bomb. */
export const DEFAULT_MAX_DEPTH = 12;
/** 30 aliases: enough to fetch a page's worth of variants; alias bombs need hundreds. */
export const DEFAULT_MAX_ALIASES = 30;
/** 10 root fields: each usually fans out to a subgraph fetch; a screen needs a handful. */
export const DEFAULT_MAX_ROOT_FIELDS = 10;
/**
 * 100,000 cost units (objects the answer may hold, see cost.ts). Above every legitimate query we
 * know of by 4× or more: the public benchmark's TestQuery estimates 23,315 (four nested unsized
 * lists), the demo's largest page 240; only five nested lists nothing sizes reach it (10⁵).
 * Below what Portico can answer at all: 100,000 objects are ~10 MB of JSON, and a subgraph
 * answer is cut off at 16 MiB. `first: 1000` nested twice (1,001,000) is refused.
 */
export const DEFAULT_MAX_COST = 100_000;
/**
 * 10 items: list size assumed without a slicing argument value, default or `@listSize` (Apollo
 * Router's usual `list_size`). The demo's unsized lists hold 2–6; the public benchmark's 2–6.
 */
export const DEFAULT_LIST_SIZE = 10;
/**
 * What the cost limit does: `enforce` refuses operations estimated above `maxCost`
 * (`QUERY_TOO_COMPLEX`); `measure` only records the estimate (metrics, access log).
 */
export type CostMode = 'measure' | 'enforce';
/** Enforce: the default limit is proven above every known legitimate query (see DEFAULT_MAX_COST). */
export const DEFAULT_COST_MODE: CostMode = 'enforce';
/** Relay/offset conventions read as page sizes when a field has no `@listSize(slicingArguments:)`. */
export const DEFAULT_SLICING_ARGUMENT_NAMES: readonly string[] = Object.freeze(['first', 'last', 'limit']);

/** Limits per operation. Every limit is a positive integer, or `Infinity` to disable it. */
export interface OperationLimitsOptions {
  /** Maximum UTF-8 size of the document text, in bytes. Default {@link DEFAULT_MAX_DOCUMENT_BYTES}. */
  readonly maxDocumentBytes?: number;
  /** Maximum lexical tokens in the document. Default {@link DEFAULT_MAX_TOKENS}. */
  readonly maxTokens?: number;
  /** Maximum field nesting, through fragments, introspection included. Default {@link DEFAULT_MAX_DEPTH}. */
  readonly maxDepth?: number;
  /** Maximum aliased fields, fragments expanded. Default {@link DEFAULT_MAX_ALIASES}. */
  readonly maxAliases?: number;
  /** Maximum root fields, fragments expanded. Default {@link DEFAULT_MAX_ROOT_FIELDS}. */
  readonly maxRootFields?: number;
  /** Maximum estimated cost (see `cost.ts` for the model). Default {@link DEFAULT_MAX_COST}. */
  readonly maxCost?: number;
  /** Refuse above `maxCost`, or only measure. Default {@link DEFAULT_COST_MODE}. */
  readonly costMode?: CostMode;
  /** List size assumed when nothing else says, in items. Default {@link DEFAULT_LIST_SIZE}. */
  readonly defaultListSize?: number;
  /** Page-size argument names for fields without `@listSize`. Default {@link DEFAULT_SLICING_ARGUMENT_NAMES}. */
  readonly slicingArgumentNames?: readonly string[];
}

/** Per-supergraph inputs: create a new `OperationLimits` on each supergraph load. */
export interface OperationLimitsDeps {
  /** The API schema operations are validated against. */
  readonly schema: GraphQLSchema;
  /**
   * The supergraph's directives, for `@cost` / `@listSize`, read once per load
   * (`deriveSupergraphViews`). Wins over `supergraphSdl`.
   */
  readonly directives?: SupergraphDirectives | undefined;
  /** The supergraph SDL, read here when `directives` is not given; without either every field weighs 1. */
  readonly supergraphSdl?: string | undefined;
}

export type ResolvedOperationLimits = Readonly<Required<OperationLimitsOptions>>;

/** What {@link OperationLimits.analyze} measured. */
export interface OperationFigures {
  readonly bytes: number;
  /** Exact up to `maxTokens`; `maxTokens + 1` once counting stopped; 0 when not lexed (too large). */
  readonly tokens: number;
  readonly depth: number;
  readonly aliases: number;
  readonly rootFields: number;
  /** Saturates at `Number.MAX_SAFE_INTEGER`. */
  readonly cost: number;
}

export interface OperationLimitsAnalysis {
  /**
   * The first violated limit, in the order size, tokens, root fields, aliases, depth, cost (the
   * cost only in `enforce` mode).
   */
  readonly violation: OperationLimitError | null;
  readonly figures: OperationFigures;
  /** The estimated cost is above `maxCost`, whatever the mode (in `measure` mode: would have been refused). */
  readonly overCostLimit: boolean;
}

export interface OperationLimits {
  readonly limits: ResolvedOperationLimits;
  /**
   * Size and token checks on the raw text, to run before `parse`: a flood is refused after
   * lexing at most `maxTokens` tokens.
   * @throws OperationLimitError `QUERY_TOO_LARGE` or `TOO_MANY_TOKENS`.
   */
  preParseCheck(source: string): void;
  /**
   * Measures a parsed (ideally validated) operation. Figures that do not depend on variables are
   * cached per document object (Apollo Server reuses one per query text).
   */
  analyze(
    source: string,
    document: DocumentNode,
    variables?: Readonly<Record<string, unknown>> | null,
    operationName?: string | null,
  ): OperationLimitsAnalysis;
}

const LIMIT_KEYS = ['maxDocumentBytes', 'maxTokens', 'maxDepth', 'maxAliases', 'maxRootFields', 'maxCost'] as const;

/** Resolves defaults and validates all options at once. @throws Error naming every bad option. */
export function resolveOperationLimits(options: OperationLimitsOptions = {}): ResolvedOperationLimits {
  const resolved = {
    maxDocumentBytes: options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES,
    maxTokens: options.maxTokens ?? DEFAULT_MAX_TOKENS,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    maxAliases: options.maxAliases ?? DEFAULT_MAX_ALIASES,
    maxRootFields: options.maxRootFields ?? DEFAULT_MAX_ROOT_FIELDS,
    maxCost: options.maxCost ?? DEFAULT_MAX_COST,
    costMode: options.costMode ?? DEFAULT_COST_MODE,
    defaultListSize: options.defaultListSize ?? DEFAULT_LIST_SIZE,
    slicingArgumentNames: Object.freeze([...(options.slicingArgumentNames ?? DEFAULT_SLICING_ARGUMENT_NAMES)]),
  };
  const problems: string[] = [];
  for (const key of LIMIT_KEYS) {
    const value = resolved[key];
    if (!(value === Infinity || (Number.isInteger(value) && value > 0))) {
      problems.push(`${key} must be a positive integer or Infinity (got ${String(value)})`);
    }
  }
  if (resolved.costMode !== 'measure' && resolved.costMode !== 'enforce') {
    problems.push(`costMode must be measure or enforce (got ${String(resolved.costMode)})`);
  }
  if (!Number.isInteger(resolved.defaultListSize) || resolved.defaultListSize < 0) {
    problems.push(`defaultListSize must be a non-negative integer (got ${String(resolved.defaultListSize)})`);
  }
  if (problems.length > 0) throw new Error(`Invalid operation limits: ${problems.join('; ')}`);
  return Object.freeze(resolved);
}

function sizeViolation(limits: ResolvedOperationLimits, bytes: number, tokens: number): OperationLimitError | null {
  if (bytes > limits.maxDocumentBytes) {
    return new OperationLimitError(
      ErrorCode.QUERY_TOO_LARGE,
      bytes,
      limits.maxDocumentBytes,
      `Operation document is ${bytes} bytes; the limit is ${limits.maxDocumentBytes} bytes. Send a smaller document or use a persisted query.`,
    );
  }
  if (tokens > limits.maxTokens) {
    return new OperationLimitError(
      ErrorCode.TOO_MANY_TOKENS,
      tokens,
      limits.maxTokens,
      `Operation document has more than ${limits.maxTokens} tokens; the limit is ${limits.maxTokens}. Select fewer fields or reuse fragments.`,
    );
  }
  return null;
}

function measureText(limits: ResolvedOperationLimits, source: string): { bytes: number; tokens: number } {
  const bytes = documentBytes(source);
  // Oversized text is refused on size alone: do not spend lexing on it.
  const tokens = bytes > limits.maxDocumentBytes ? 0 : countTokens(source, limits.maxTokens);
  return { bytes, tokens };
}

/**
 * Size + token check with explicit (or default) limits, for callers that have no schema yet.
 * @throws OperationLimitError `QUERY_TOO_LARGE` or `TOO_MANY_TOKENS`.
 */
export function preParseCheck(source: string, limits: ResolvedOperationLimits = resolveOperationLimits()): void {
  const { bytes, tokens } = measureText(limits, source);
  const violation = sizeViolation(limits, bytes, tokens);
  if (violation !== null) throw violation;
}

interface CachedFigures {
  readonly bytes: number;
  readonly tokens: number;
  readonly depth: number;
  readonly aliases: number;
  readonly rootFields: number;
  /** Present when no measured operation declares variables: the cost is then fixed. */
  readonly cost: number | undefined;
}

/** One request's figures, written out field by field (per request: src/runtime/objects.ts says why). */
function figuresOf(cached: CachedFigures, cost: number): OperationFigures {
  return { bytes: cached.bytes, tokens: cached.tokens, depth: cached.depth, aliases: cached.aliases, rootFields: cached.rootFields, cost };
}

/**
 * Creates the operation limits for one supergraph: the cost index (weights, list sizes) is
 * built here, once.
 * @throws Error when an option is invalid (all problems in one message).
 */
export function createOperationLimits(options: OperationLimitsOptions, deps: OperationLimitsDeps): OperationLimits {
  const limits = resolveOperationLimits(options);
  const supergraph = deps.directives ?? deps.supergraphSdl;
  const costIndex = buildCostIndex(deps.schema, supergraph === undefined ? undefined : supergraphDirectivesOf(supergraph), limits);
  const cache = new WeakMap<DocumentNode, Map<string, CachedFigures>>();

  const maxCost = (
    operations: readonly OperationDefinitionNode[],
    fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    variables: Readonly<Record<string, unknown>> | null | undefined,
  ) =>
    operations.reduce(
      (max, operation) => Math.max(max, estimateCost({ index: costIndex, operation, fragments, variables })),
      0,
    );

  const measure = (
    source: string,
    document: DocumentNode,
    variables: Readonly<Record<string, unknown>> | null | undefined,
    operationName: string | null | undefined,
  ): OperationFigures => {
    let perOperation = cache.get(document);
    if (perOperation === undefined) cache.set(document, (perOperation = new Map()));
    const operations = operationsToMeasure(document, operationName);
    // Keyed by what was measured, not by the requested name: made-up operation names all map
    // to the "every operation" entry instead of growing the cache.
    const key = operations.length === 1 ? (operations[0]?.name?.value ?? '') : '*';
    let cached = perOperation.get(key);
    let fragments: ReadonlyMap<string, FragmentDefinitionNode> | undefined;
    if (cached === undefined) {
      fragments = fragmentsOf(document);
      const text = measureText(limits, source);
      let depth = 0;
      let aliases = 0;
      let rootFields = 0;
      for (const operation of operations) {
        const structure = measureStructure(operation, fragments);
        depth = Math.max(depth, structure.depth);
        aliases = Math.max(aliases, structure.aliases);
        rootFields = Math.max(rootFields, structure.rootFields);
      }
      const fixedCost = operations.every((operation) => (operation.variableDefinitions ?? []).length === 0);
      cached = { bytes: text.bytes, tokens: text.tokens, depth, aliases, rootFields, cost: fixedCost ? maxCost(operations, fragments, undefined) : undefined };
      perOperation.set(key, cached);
    }
    // Field by field, not `{ ...cached, cost }`: see figuresOf.
    return figuresOf(cached, cached.cost ?? maxCost(operations, fragments ?? fragmentsOf(document), variables));
  };

  return {
    limits,
    preParseCheck: (source) => preParseCheck(source, limits),
    analyze(source, document, variables, operationName) {
      const figures = measure(source, document, variables, operationName);
      const check = (code: OperationLimitCode, measured: number, limit: number, message: string) =>
        measured > limit ? new OperationLimitError(code, measured, limit, message) : null;
      const violation =
        sizeViolation(limits, figures.bytes, figures.tokens) ??
        check(
          ErrorCode.TOO_MANY_ROOT_FIELDS,
          figures.rootFields,
          limits.maxRootFields,
          `Operation selects ${figures.rootFields} root fields; the limit is ${limits.maxRootFields}. Split it into several operations.`,
        ) ??
        check(
          ErrorCode.TOO_MANY_ALIASES,
          figures.aliases,
          limits.maxAliases,
          `Operation uses ${figures.aliases} aliases (fragments expanded); the limit is ${limits.maxAliases}.`,
        ) ??
        check(
          ErrorCode.QUERY_TOO_DEEP,
          figures.depth,
          limits.maxDepth,
          `Operation nests ${figures.depth} levels deep; the limit is ${limits.maxDepth}. Flatten nested selections.`,
        ) ??
        (limits.costMode === 'enforce'
          ? check(
              ErrorCode.QUERY_TOO_COMPLEX,
              figures.cost,
              limits.maxCost,
              `Operation cost is estimated at ${figures.cost} objects; the limit is ${limits.maxCost}. Request smaller pages (first/limit) or fewer nested lists.`,
            )
          : null);
      return { violation, figures, overCostLimit: figures.cost > limits.maxCost };
    },
  };
}

export { OperationLimitError, OPERATION_LIMIT_HTTP_STATUS, type OperationLimitCode } from './errors.ts';
export { actualCost, buildCostIndex, estimateCost, MUTATION_BASE_COST, type CostIndex, type CostIndexOptions, type EstimateCostOptions } from './cost.ts';
