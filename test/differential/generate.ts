/**
 * Seeded generator of GraphQL queries over any schema, for the differential suite: random
 * selections with aliases, named fragments, inline fragments on abstract types, variables with
 * values (and operation defaults), `@skip`/`@include` and `__typename`, kept inside a gateway's
 * shape limits (depth, aliases, root fields, tokens, bytes). Every operation is valid against
 * the schema (graphql-js `validate`).
 *
 * Pure and reproducible: the same schema, options and seed give the same operations, and
 * operation `i` depends only on (seed, i), so one operation can be replayed alone. Cost is not
 * bounded on purpose: a gateway refusing a legitimate query for its estimated cost is a finding.
 */
import {
  astFromValue,
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isUnionType,
  Kind,
  Lexer,
  parse,
  print,
  Source,
  TokenKind,
  validate,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLArgument,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
// The mocks' seeded PRNG (mulberry32): small, well distributed, and already the project's.
import { mulberry32 } from '../../subgraphs-mock/data.ts';

/** Seed of attempt `attempt` at operation `index` of a run (a murmur3 finaliser over the three). */
export function operationSeed(runSeed: number, index: number, attempt = 0): number {
  let h = Math.imul(runSeed >>> 0, 0xcc9e2d51) ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(attempt + 1, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** What an operation exercises; the suite checks that a run covers all of them. */
export const FEATURES = [
  'alias',
  'namedFragment',
  'inlineFragment',
  /** An inline or named fragment whose type condition narrows an interface or a union. */
  'abstractFragment',
  'variable',
  /** A variable declared with a default in the operation and not sent. */
  'variableDefault',
  'skip',
  'include',
  'typename',
  /** An explicit `null` argument value. */
  'nullArgument',
] as const;
export type Feature = (typeof FEATURES)[number];

/** The shape limits an operation must stay within (a gateway's own, e.g. Portico's defaults). */
export interface ShapeLimits {
  /** Deepest field nesting; `{ a { b } }` is 2. */
  readonly maxDepth: number;
  /** Aliased fields, fragments expanded at every spread. */
  readonly maxAliases: number;
  /** Root fields, fragments expanded. */
  readonly maxRootFields: number;
  /** Lexical tokens of the document. */
  readonly maxTokens: number;
  /** UTF-8 bytes of the document. */
  readonly maxBytes: number;
}

/** Field nesting generated when not told: a product UI's. */
export const DEFAULT_GENERATED_DEPTH = 5;

/** Portico's defaults (src/hardening/index.ts), restated so the generator does not import src/. */
export const PORTICO_DEFAULT_SHAPE: ShapeLimits = Object.freeze({
  maxDepth: 12,
  maxAliases: 30,
  maxRootFields: 10,
  maxTokens: 2_000,
  maxBytes: 32 * 1024,
});

export interface GenerateOptions {
  /** The API schema clients see. */
  readonly schema: GraphQLSchema;
  /** Run seed; see {@link operationSeed}. */
  readonly seed: number;
  /** How many operations. */
  readonly count: number;
  /** Field nesting of generated operations, ≤ `limits.maxDepth`. Default {@link DEFAULT_GENERATED_DEPTH}. */
  readonly depth?: number;
  /** Default {@link PORTICO_DEFAULT_SHAPE}. */
  readonly limits?: ShapeLimits;
  /** Fields never selected, as `Type.field` (e.g. authorization-gated or nondeterministic ones). */
  readonly exclude?: ReadonlySet<string>;
  /**
   * Values to draw argument values from, by coordinate `Type.field(arg:)` (e.g. ids that exist
   * and one that does not); other arguments get small values of their type.
   */
  readonly argumentValues?: Readonly<Record<string, readonly unknown[]>>;
}

export interface GeneratedOperation {
  readonly index: number;
  /** The seed the accepted attempt was generated from. */
  readonly seed: number;
  readonly query: string;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly features: readonly Feature[];
  /** Attempts it took (rejected ones were invalid or over a limit). */
  readonly attempts: number;
}

/** Attempts per operation before the generator gives up (a bug in it, not bad luck). */
const MAX_ATTEMPTS = 50;

/** Generates `options.count` operations. @throws when an operation cannot be made valid. */
export function generateOperations(options: GenerateOptions): GeneratedOperation[] {
  return Array.from({ length: options.count }, (_, index) => generateOperation(options, index));
}

/** Operation `index` of the run `options.seed`. @throws when no attempt is valid. */
export function generateOperation(options: GenerateOptions, index: number): GeneratedOperation {
  const limits = options.limits ?? PORTICO_DEFAULT_SHAPE;
  const depth = Math.min(options.depth ?? DEFAULT_GENERATED_DEPTH, limits.maxDepth);
  const problems: string[] = [];
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const seed = operationSeed(options.seed, index, attempt);
    const built = new Builder(options, limits, depth, seed, index).operation();
    const problem = check(options.schema, built.query, limits);
    if (problem === undefined) return { index, seed, ...built, attempts: attempt + 1 };
    problems.push(problem);
  }
  throw new Error(`operation ${index} of seed ${options.seed}: no valid attempt in ${MAX_ATTEMPTS}; last problems:\n${problems.slice(-3).join('\n')}`);
}

/** Why an operation is not acceptable, or undefined. */
function check(schema: GraphQLSchema, query: string, limits: ShapeLimits): string | undefined {
  if (Buffer.byteLength(query) > limits.maxBytes) return `${Buffer.byteLength(query)} bytes`;
  const tokens = countTokens(query);
  if (tokens > limits.maxTokens) return `${tokens} tokens`;
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch (err) {
    return `syntax: ${String(err)}`;
  }
  const errors = validate(schema, document);
  if (errors.length > 0) return `invalid: ${errors.map((e) => e.message).join('; ')}`;
  const shape = measureShape(document);
  if (shape.depth > limits.maxDepth) return `depth ${shape.depth}`;
  if (shape.aliases > limits.maxAliases) return `${shape.aliases} aliases`;
  if (shape.rootFields > limits.maxRootFields) return `${shape.rootFields} root fields`;
  return undefined;
}

/** Lexical tokens, as graphql-js counts them for its own `maxTokens`. */
export function countTokens(query: string): number {
  const lexer = new Lexer(new Source(query));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n += 1;
  return n;
}

/** Depth, aliases and root fields of the document's first operation, fragments expanded. */
export function measureShape(document: DocumentNode): { depth: number; aliases: number; rootFields: number } {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const visit = (set: SelectionSetNode): { depth: number; aliases: number; fields: number } => {
    let depth = 0;
    let aliases = 0;
    let fields = 0;
    for (const s of set.selections) {
      const inner =
        s.kind === Kind.FIELD
          ? s.selectionSet === undefined
            ? { depth: 0, aliases: 0, fields: 0 }
            : visit(s.selectionSet)
          : visit(s.kind === Kind.INLINE_FRAGMENT ? s.selectionSet : fragments.get(s.name.value)!.selectionSet);
      if (s.kind === Kind.FIELD) {
        depth = Math.max(depth, 1 + inner.depth);
        aliases += inner.aliases + (s.alias ? 1 : 0);
        fields += 1;
      } else {
        depth = Math.max(depth, inner.depth);
        aliases += inner.aliases;
        fields += inner.fields;
      }
    }
    return { depth, aliases, fields };
  };
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (operation?.kind !== Kind.OPERATION_DEFINITION) return { depth: 0, aliases: 0, rootFields: 0 };
  const root = visit(operation.selectionSet);
  return { depth: root.depth, aliases: root.aliases, rootFields: root.fields };
}

const INTS = [0, 1, 2, 3, 5];
const FLOATS = [0.5, 1, 2.5];
const STRINGS = ['a', 'e', 'Ke', ''];
const IDS = ['1', '2', '3'];

interface FragmentDef {
  readonly name: string;
  readonly typeName: string;
  /** Depth of the selection set it was generated for: it fits at this depth or shallower. */
  readonly depth: number;
}

/** One attempt at one operation; all randomness comes from its own PRNG. */
class Builder {
  private readonly rand: () => number;
  private readonly variableDefinitions: string[] = [];
  private readonly variables: Record<string, unknown> = {};
  private readonly fragmentTexts: string[] = [];
  private readonly fragments: FragmentDef[] = [];
  private readonly features = new Set<Feature>();
  /** Arguments chosen for an unaliased field name: the same response key never gets two. */
  private readonly argumentsByField = new Map<string, string>();
  private aliases = 0;
  private counter = 0;

  constructor(
    private readonly options: GenerateOptions,
    private readonly limits: ShapeLimits,
    private readonly depth: number,
    seed: number,
    private readonly index: number,
  ) {
    this.rand = mulberry32(seed);
  }

  operation(): { query: string; variables: Record<string, unknown>; features: Feature[] } {
    const root = this.options.schema.getQueryType();
    if (!root) throw new Error('schema has no query type');
    const selections = this.selections(root, 0, 1 + this.int(Math.min(3, this.limits.maxRootFields)));
    const name = this.chance(0.85) ? ` Gen${this.index}` : '';
    const variables = this.variableDefinitions.length > 0 ? `(${this.variableDefinitions.join(', ')})` : '';
    // Shorthand `{ … }` when nothing needs the keyword, as clients often write.
    const head = name === '' && variables === '' && this.chance(0.5) ? '' : `query${name}${variables} `;
    const query = [`${head}{ ${selections.join(' ')} }`, ...this.fragmentTexts].join('\n');
    return { query, variables: this.variables, features: FEATURES.filter((f) => this.features.has(f)) };
  }

  private chance(p: number): boolean {
    return this.rand() < p;
  }

  private int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  private shuffled<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /**
   * Selections inside a selection set on `type` whose fields sit at `depth + 1`.
   * @param width how many fields to draw (fragments and `__typename` come on top).
   */
  private selections(type: GraphQLCompositeType, depth: number, width = 1 + this.int(3)): string[] {
    const parts: string[] = [];
    if (isUnionType(type)) {
      if (this.chance(0.5)) parts.push(this.typename());
      // Members, and interfaces members implement: `... on Media` inside a union is valid too.
      // Under those, leaf fields only: @apollo/query-planner takes seconds to plan deep
      // selections there (the same in both gateways), which the time budget cannot afford.
      const members = type.getTypes();
      const interfaces = [...new Set(members.flatMap((m) => m.getInterfaces()))];
      const targets = this.shuffled<GraphQLCompositeType>([...members, ...interfaces]).slice(0, 1 + this.int(Math.min(3, members.length)));
      for (const target of targets) parts.push(this.fragment(target, isInterfaceType(target) ? Math.max(depth, this.depth - 1) : depth, true));
      return parts;
    }
    const nestable = depth + 1 < this.depth;
    const fields = Object.values(type.getFields()).filter(
      (f) => !this.options.exclude?.has(`${type.name}.${f.name}`) && (nestable || isLeafType(getNamedType(f.type))),
    );
    const keys = new Set<string>();
    for (let i = 0; i < width && fields.length > 0; i++) {
      const field = this.fieldSelection(type, this.pick(fields), depth + 1, keys);
      if (field !== undefined) parts.push(field);
    }
    if (isInterfaceType(type) && this.chance(0.6)) {
      const possible = this.shuffled(this.options.schema.getPossibleTypes(type));
      for (const target of possible.slice(0, 1 + this.int(Math.min(2, possible.length)))) parts.push(this.fragment(target, depth, true));
    } else if (this.chance(0.08)) {
      parts.push(this.fragment(type, depth, false));
    }
    if (parts.length === 0 || this.chance(0.12)) parts.push(this.typename());
    return parts;
  }

  private typename(): string {
    this.features.add('typename');
    return '__typename';
  }

  /** An inline fragment or a named fragment spread on `target`, at the enclosing set's depth. */
  private fragment(target: GraphQLCompositeType, depth: number, narrows: boolean): string {
    if (narrows) this.features.add('abstractFragment');
    const condition = this.conditional(0.15);
    if (this.chance(0.25)) {
      this.features.add('namedFragment');
      const reusable = this.fragments.filter((f) => f.typeName === target.name && f.depth >= depth);
      if (reusable.length > 0 && this.chance(0.4)) return `...${this.pick(reusable).name}${condition}`;
      // Generated before it is registered: a fragment never spreads itself.
      const body = this.selections(target, depth);
      const name = `F${this.counter++}`;
      this.fragmentTexts.push(`fragment ${name} on ${target.name} { ${body.join(' ')} }`);
      this.fragments.push({ name, typeName: target.name, depth });
      return `...${name}${condition}`;
    }
    this.features.add('inlineFragment');
    // Without a type condition when it would not narrow anything, sometimes.
    const on = !narrows && this.chance(0.5) ? '' : ` on ${target.name}`;
    return `...${on}${condition} { ${this.selections(target, depth).join(' ')} }`;
  }

  /** One field at `depth`; undefined when it would repeat a response key and no alias is left. */
  private fieldSelection(parent: GraphQLCompositeType, field: GraphQLField<unknown, unknown>, depth: number, keys: Set<string>): string | undefined {
    const repeat = keys.has(field.name);
    let alias = '';
    if ((repeat || this.chance(0.15)) && this.aliases < this.limits.maxAliases / 3) {
      alias = `a${this.counter++}: `;
      this.aliases += 1;
      this.features.add('alias');
    } else if (repeat) {
      return undefined;
    }
    keys.add(alias === '' ? field.name : alias);
    const args = this.argumentList(parent, field, alias !== '');
    const condition = this.conditional(0.06);
    const named = getNamedType(field.type);
    const sub = isCompositeType(named) ? ` { ${this.selections(named, depth).join(' ')} }` : '';
    return `${alias}${field.name}${args}${condition}${sub}`;
  }

  private argumentList(parent: GraphQLCompositeType, field: GraphQLField<unknown, unknown>, aliased: boolean): string {
    if (field.args.length === 0) return '';
    // Two selections of one response key must agree on arguments (OverlappingFieldsCanBeMerged):
    // an unaliased field reuses the arguments its name got first.
    const key = `${field.name}(${field.args.map((a) => a.name).join(',')})`;
    const known = aliased ? undefined : this.argumentsByField.get(key);
    if (known !== undefined) return known;
    const parts: string[] = [];
    for (const arg of field.args) {
      const required = isNonNullType(arg.type) && arg.defaultValue === undefined;
      if (!required && !this.chance(0.5)) continue;
      parts.push(`${arg.name}: ${this.argumentValue(parent, field, arg)}`);
    }
    const text = parts.length > 0 ? `(${parts.join(', ')})` : '';
    if (!aliased) this.argumentsByField.set(key, text);
    return text;
  }

  private argumentValue(parent: GraphQLCompositeType, field: GraphQLField<unknown, unknown>, arg: GraphQLArgument): string {
    const hints = this.options.argumentValues?.[`${parent.name}.${field.name}(${arg.name}:)`];
    let value = hints !== undefined && hints.length > 0 ? this.pick(hints) : this.valueFor(arg.type);
    if (value === null && isNonNullType(arg.type)) value = this.valueFor(arg.type);
    if (value === null) this.features.add('nullArgument');
    if (!this.chance(0.4)) return literal(value, arg.type);
    const name = `v${this.counter++}`;
    this.features.add('variable');
    if (!isNonNullType(arg.type) && value !== null && this.chance(0.25)) {
      this.features.add('variableDefault');
      this.variableDefinitions.push(`$${name}: ${String(arg.type)} = ${literal(value, arg.type)}`);
    } else {
      this.variableDefinitions.push(`$${name}: ${String(arg.type)}`);
      this.variables[name] = value;
    }
    return `$${name}`;
  }

  /** A value of `type` as JSON (enum values by name). */
  private valueFor(type: GraphQLInputType, nullable = true): unknown {
    if (isNonNullType(type)) return this.valueFor(type.ofType, false);
    if (nullable && this.chance(0.08)) return null;
    if (isListType(type)) return Array.from({ length: this.int(3) }, () => this.valueFor(type.ofType));
    if (isInputObjectType(type)) {
      const out: Record<string, unknown> = {};
      for (const f of Object.values(type.getFields())) {
        const required = isNonNullType(f.type) && f.defaultValue === undefined;
        if (required || this.chance(0.3)) out[f.name] = this.valueFor(f.type);
      }
      return out;
    }
    if (isEnumType(type)) return this.pick(type.getValues()).name;
    return this.scalar(type);
  }

  private scalar(type: GraphQLNamedType): unknown {
    switch (type.name) {
      case 'Int':
        return this.pick(INTS);
      case 'Float':
        return this.pick(FLOATS);
      case 'Boolean':
        return this.chance(0.5);
      case 'ID':
        return this.pick(IDS);
      default:
        return this.pick(STRINGS);
    }
  }

  /** Sometimes ` @skip(if: …)` or ` @include(if: …)`, with a literal or a variable. */
  private conditional(p: number): string {
    if (!this.chance(p)) return '';
    const directive = this.chance(0.5) ? 'skip' : 'include';
    this.features.add(directive);
    const value = this.chance(0.5);
    if (this.chance(0.5)) return ` @${directive}(if: ${String(value)})`;
    const name = `b${this.counter++}`;
    this.features.add('variable');
    this.variableDefinitions.push(`$${name}: Boolean!`);
    this.variables[name] = value;
    return ` @${directive}(if: $${name})`;
  }
}

/** A JSON value as a GraphQL literal of `type`. */
function literal(value: unknown, type: GraphQLInputType): string {
  const ast = astFromValue(value, type);
  if (!ast) throw new Error(`no literal of ${String(type)} for ${JSON.stringify(value)}`);
  return print(ast);
}
