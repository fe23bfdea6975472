import { buildSchema, parse, TypeInfo, visit, visitWithTypeInfo, validate, Kind } from 'graphql';
import { describe, expect, it } from 'vitest';
import { fragmentsOf, measureStructure } from '../../../src/hardening/measure.ts';
import { countTokens, FEATURES, generateOperation, generateOperations, measureShape, operationSeed, PORTICO_DEFAULT_SHAPE } from '../../differential/generate.ts';

// Everything the generator has a branch for: an interface, a union, an enum, an input object,
// nested lists, required and defaulted arguments.
const schema = buildSchema(/* GraphQL */ `
  interface Node { id: ID! }
  interface Media implements Node { id: ID! title: String! related(first: Int = 2): [Media!]! }
  type Book implements Node & Media { id: ID! title: String! related(first: Int = 2): [Media!]! pages: Int! grid: [[Int!]!]! }
  type Film implements Node & Media { id: ID! title: String! related(first: Int = 2): [Media!]! minutes(rounded: Boolean): Int secret: String }
  type Person implements Node { id: ID! name: String! likes: [Media!]! }
  union Hit = Book | Film | Person
  enum Kind { BOOK FILM }
  input Filter { kind: Kind!  minPages: Int  tags: [String!] }
  type Query {
    node(id: ID!): Node
    search(term: String!, filter: Filter, limit: Int = 5): [Hit!]!
    media(kind: Kind): [Media!]!
    person(id: ID!): Person
    version: String!
  }
`);

describe('operationSeed', () => {
  it('gives every (operation, attempt) of a run its own seed', () => {
    const seeds = new Set<number>();
    for (let i = 0; i < 500; i++) for (let attempt = 0; attempt < 3; attempt++) seeds.add(operationSeed(7, i, attempt));
    expect(seeds.size).toBe(1_500);
    expect(operationSeed(7, 3)).toBe(operationSeed(7, 3, 0));
    expect(operationSeed(8, 3)).not.toBe(operationSeed(7, 3));
  });
});

describe('generateOperations', () => {
  const run = generateOperations({ schema, seed: 1234, count: 400 });

  it('is reproducible: same seed, same operations; one operation replays alone', () => {
    expect(generateOperations({ schema, seed: 1234, count: 400 })).toEqual(run);
    expect(generateOperation({ schema, seed: 1234, count: 0 }, 321)).toEqual(run[321]);
    const other = generateOperations({ schema, seed: 1235, count: 400 });
    expect(other.filter((op, i) => op.query === run[i]!.query).length).toBeLessThan(20);
  });

  it('makes valid operations with values for every variable they send', () => {
    for (const op of run) {
      const document = parse(op.query);
      expect(validate(schema, document), op.query).toEqual([]);
      const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
      const declared = (operation?.kind === Kind.OPERATION_DEFINITION ? operation.variableDefinitions ?? [] : []).map((v) => v.variable.name.value);
      for (const name of Object.keys(op.variables)) expect(declared).toContain(name);
    }
  });

  it("stays within Portico's default shape limits, as Portico itself measures them", () => {
    for (const op of run) {
      const document = parse(op.query);
      const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
      if (operation?.kind !== Kind.OPERATION_DEFINITION) throw new Error('no operation');
      const portico = measureStructure(operation, fragmentsOf(document));
      expect(portico).toEqual(measureShape(document));
      // Default generation depth is 5, well inside the limit of 12.
      expect(portico.depth).toBeLessThanOrEqual(5);
      expect(portico.aliases).toBeLessThanOrEqual(PORTICO_DEFAULT_SHAPE.maxAliases);
      expect(portico.rootFields).toBeLessThanOrEqual(PORTICO_DEFAULT_SHAPE.maxRootFields);
      expect(countTokens(op.query)).toBeLessThanOrEqual(PORTICO_DEFAULT_SHAPE.maxTokens);
    }
  });

  it('covers every feature over a run, with few rejected attempts', () => {
    for (const feature of FEATURES) expect(run.filter((op) => op.features.includes(feature)).length, feature).toBeGreaterThan(4);
    expect(run.reduce((n, op) => n + op.attempts, 0) / run.length).toBeLessThan(1.5);
  });

  it('honours tight limits and a shallow depth', () => {
    const limits = { maxDepth: 3, maxAliases: 2, maxRootFields: 2, maxTokens: 120, maxBytes: 600 };
    for (const op of generateOperations({ schema, seed: 99, count: 200, depth: 3, limits })) {
      const shape = measureShape(parse(op.query));
      expect(shape.depth).toBeLessThanOrEqual(3);
      expect(shape.aliases).toBeLessThanOrEqual(2);
      expect(shape.rootFields).toBeLessThanOrEqual(2);
      expect(countTokens(op.query)).toBeLessThanOrEqual(120);
      expect(Buffer.byteLength(op.query)).toBeLessThanOrEqual(600);
    }
  });

  it('never selects an excluded field, and draws hinted arguments from their hints', () => {
    const ops = generateOperations({
      schema,
      seed: 5,
      count: 300,
      exclude: new Set(['Film.secret', 'Query.version']),
      argumentValues: { 'Query.person(id:)': ['p1', 'p2'] },
    });
    const personIds = new Set<unknown>();
    for (const op of ops) {
      const typeInfo = new TypeInfo(schema);
      visit(
        parse(op.query),
        visitWithTypeInfo(typeInfo, {
          Field(node) {
            const parent = typeInfo.getParentType()?.name;
            expect(`${parent}.${node.name.value}`).not.toMatch(/^(Film\.secret|Query\.version)$/);
            if (parent === 'Query' && node.name.value === 'person') {
              const value = node.arguments?.find((a) => a.name.value === 'id')?.value;
              personIds.add(value?.kind === Kind.VARIABLE ? op.variables[value.name.value] : value?.kind === Kind.STRING ? value.value : value?.kind);
            }
          },
        }),
      );
    }
    expect([...personIds].sort()).toEqual(['p1', 'p2']);
  });
});
