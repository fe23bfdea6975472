import { getIntrospectionQuery, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  createOperationLimits,
  DEFAULT_MAX_ALIASES,
  DEFAULT_MAX_COST,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_DOCUMENT_BYTES,
  DEFAULT_MAX_ROOT_FIELDS,
  DEFAULT_MAX_TOKENS,
  OperationLimitError,
  preParseCheck,
  resolveOperationLimits,
  type OperationLimitsOptions,
} from '../../../src/hardening/index.ts';
import { fixture } from '../authorization/fixtureSupergraph.ts';

const deps = { schema: fixture.apiSchema, supergraphSdl: fixture.supergraphSdl };
const limits = createOperationLimits({}, deps);

function analyze(source: string, variables?: Record<string, unknown>, options?: OperationLimitsOptions) {
  const instance = options === undefined ? limits : createOperationLimits(options, deps);
  return instance.analyze(source, parse(source), variables, undefined);
}

function thrown(action: () => void): OperationLimitError {
  try {
    action();
  } catch (error) {
    if (error instanceof OperationLimitError) return error;
    throw error;
  }
  throw new Error('expected an OperationLimitError');
}

/** `{ product(id: "1") { related { related { … { id } } } } }` with `levels` related fields. */
function nested(levels: number): string {
  return `{ product(id: "1") { ${'related { '.repeat(levels)}id${' }'.repeat(levels)} } }`;
}

describe('defaults', () => {
  it('are the documented values', () => {
    expect(resolveOperationLimits()).toMatchObject({
      maxDocumentBytes: 32 * 1024,
      maxTokens: 2_000,
      maxDepth: 12,
      maxAliases: 30,
      maxRootFields: 10,
      maxCost: 100_000,
      costMode: 'enforce',
      defaultListSize: 10,
    });
    expect([DEFAULT_MAX_DOCUMENT_BYTES, DEFAULT_MAX_TOKENS, DEFAULT_MAX_DEPTH]).toEqual([32_768, 2_000, 12]);
    expect([DEFAULT_MAX_ALIASES, DEFAULT_MAX_ROOT_FIELDS, DEFAULT_MAX_COST]).toEqual([30, 10, 100_000]);
  });

  it('reports every invalid option in one error', () => {
    expect(() => resolveOperationLimits({ maxDepth: 0, maxCost: 1.5, maxTokens: Infinity })).toThrow(
      /maxDepth must be a positive integer.*maxCost must be a positive integer/,
    );
  });
});

describe('preParseCheck', () => {
  it('rejects a 1 MB document of commas on size, before any parse', () => {
    const flood = ','.repeat(1024 * 1024);
    const error = thrown(() => preParseCheck(flood));
    expect(error.code).toBe('QUERY_TOO_LARGE');
    expect(error.extensions).toEqual({
      code: 'QUERY_TOO_LARGE',
      measured: 1024 * 1024,
      limit: 32 * 1024,
      http: { status: 400 },
    });
    expect(error.message).toContain('1048576 bytes');
    expect(error.message).toContain('32768');
    // The instance method applies the same check with the instance's limits.
    expect(thrown(() => limits.preParseCheck(flood)).code).toBe('QUERY_TOO_LARGE');
  });

  it('stops counting tokens at the limit', () => {
    const flood = `{ ${'a '.repeat(500_000)}}`; // 1 MB, 500k tokens
    const error = thrown(() => preParseCheck(flood, resolveOperationLimits({ maxDocumentBytes: 2 * 1024 * 1024 })));
    expect(error.code).toBe('TOO_MANY_TOKENS');
    expect(error.measured).toBe(DEFAULT_MAX_TOKENS + 1);
    expect(error.limit).toBe(DEFAULT_MAX_TOKENS);
  });

  it('rejects a token flood that fits the size limit', () => {
    const source = `{ ${'a '.repeat(3_000)}}`;
    expect(thrown(() => preParseCheck(source)).code).toBe('TOO_MANY_TOKENS');
  });

  it('accepts ordinary documents and leaves syntax errors to the parser', () => {
    expect(() => preParseCheck('query Q($id: ID!) { product(id: $id) { id name } }')).not.toThrow();
    expect(() => preParseCheck('{ product(id: "unterminated) }')).not.toThrow();
  });
});

describe('depth', () => {
  it('counts field nesting and rejects a depth bomb', () => {
    const noCost = { maxCost: Infinity }; // nested lists would trip the cost limit first
    expect(analyze(nested(10), undefined, noCost).figures.depth).toBe(12);
    expect(analyze(nested(10), undefined, noCost).violation).toBeNull();
    const { violation, figures } = analyze(nested(11), undefined, noCost);
    expect(figures.depth).toBe(13);
    expect(violation?.extensions).toMatchObject({ code: 'QUERY_TOO_DEEP', measured: 13, limit: 12 });
    expect(violation?.message).toContain('13 levels deep; the limit is 12');
  });

  it('counts nesting through named and inline fragments', () => {
    const source = `
      { product(id: "1") { ...A } }
      fragment A on Product { related { ... on Product { related { ...B } } } }
      fragment B on Product { related { id } }`;
    expect(analyze(source).figures.depth).toBe(5);
  });

  it('counts introspection fields, so an introspection depth bomb is rejected', () => {
    const bomb = `{ __schema { types { fields { type { ${'ofType { '.repeat(10)}name${' }'.repeat(10)} } } } } }`;
    const { violation, figures } = analyze(bomb);
    expect(figures.depth).toBe(15);
    expect(violation?.extensions['code']).toBe('QUERY_TOO_DEEP');
  });
});

describe('aliases and root fields', () => {
  it('rejects an alias bomb', () => {
    const source = `{ product(id: "1") { ${Array.from({ length: 31 }, (_, i) => `a${i}: name`).join(' ')} } }`;
    const { violation } = analyze(source);
    expect(violation?.extensions).toMatchObject({ code: 'TOO_MANY_ALIASES', measured: 31, limit: 30 });
  });

  it('counts aliases inside fragments once per spread', () => {
    const source = `
      { a: product(id: "1") { ...F } b: product(id: "2") { ...F } }
      fragment F on Product { x: name y: label }`;
    expect(analyze(source).figures.aliases).toBe(6);
  });

  it('rejects too many root fields, counting root-level fragments', () => {
    const source = `
      { expensive ...R }
      fragment R on Query { ${Array.from({ length: 10 }, (_, i) => `p${i}: product(id: "${i}") { id }`).join(' ')} }`;
    const { violation, figures } = analyze(source, undefined, { maxCost: Infinity });
    expect(figures.rootFields).toBe(11);
    expect(violation?.extensions).toMatchObject({ code: 'TOO_MANY_ROOT_FIELDS', measured: 11, limit: 10 });
  });
});

describe('cost', () => {
  // The model itself (alternatives, slicing, @listSize, @cost, assumed size) is in cost.test.ts.
  it('enforce mode refuses nested first: 1000 lists with the measured value', () => {
    const { violation, figures, overCostLimit } = analyze('{ products(first: 1000) { related(first: 1000) { id } } }');
    expect(figures.cost).toBe(1000 * (1 + 1000));
    expect(overCostLimit).toBe(true);
    expect(violation?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', measured: 1_001_000, limit: 100_000 });
  });

  it('measure mode reports the estimate above the limit and refuses nothing', () => {
    const { violation, figures, overCostLimit } = analyze('{ products(first: 1000) { related(first: 1000) { id } } }', undefined, { costMode: 'measure' });
    expect(figures.cost).toBe(1_001_000);
    expect(overCostLimit).toBe(true);
    expect(violation).toBeNull();
    // The other limits still apply in measure mode.
    expect(analyze(nested(11), undefined, { costMode: 'measure' }).violation?.extensions['code']).toBe('QUERY_TOO_DEEP');
  });

  it('reads page sizes from variables, then variable defaults, then argument defaults', () => {
    const source = 'query ($n: Int) { products(first: $n) { id related(first: 2) { id } } }';
    const document = parse(source);
    expect(limits.analyze(source, document, { n: 3 }).figures.cost).toBe(3 * (1 + 2));
    // Same document object, other variables: the variable-dependent cost is not cached.
    const big = limits.analyze(source, document, { n: 50_000 });
    expect(big.figures.cost).toBe(150_000);
    expect(big.violation?.extensions['code']).toBe('QUERY_TOO_COMPLEX');
    expect(limits.analyze(source, document, {}).figures.cost).toBe(5 * 3);
    expect(analyze('query ($n: Int = 7) { products(first: $n) { id name } }', {}).figures.cost).toBe(7);
  });

  it('charges introspection like any other list; the standard query is held to depth', () => {
    const { figures, violation } = analyze(getIntrospectionQuery());
    expect(figures.depth).toBe(15);
    expect(figures.cost).toBeGreaterThan(10_000);
    expect(violation?.extensions['code']).toBe('QUERY_TOO_DEEP');
    expect(analyze(getIntrospectionQuery(), undefined, { maxDepth: 15 }).violation).toBeNull();
    expect(analyze(getIntrospectionQuery(), undefined, { maxDepth: 15, maxCost: 10_000 }).violation?.extensions['code']).toBe('QUERY_TOO_COMPLEX');
  });

  it('rejects an invalid cost mode with the other problems', () => {
    expect(() => resolveOperationLimits({ costMode: 'audit' as never, maxCost: 0 })).toThrow(/maxCost must be a positive integer.*costMode must be measure or enforce/);
  });
});

describe('fragment bombs and cycles', () => {
  it('measures an exponential fragment bomb in linear work and rejects it', () => {
    const levels = 40;
    // F0 selects one object (a one-item list); each level spreads the previous one twice.
    const fragments = ['fragment F0 on Product { variants(first: 1) { sku } }'];
    for (let i = 1; i <= levels; i += 1) fragments.push(`fragment F${i} on Product { ...F${i - 1} ...F${i - 1} }`);
    const source = `{ product(id: "1") { ...F${levels} } }\n${fragments.join('\n')}`;
    const { violation, figures } = analyze(source);
    expect(figures.cost).toBe(1 + 2 ** levels);
    expect(figures.depth).toBe(3);
    expect(violation?.extensions['code']).toBe('QUERY_TOO_COMPLEX');
  });

  it('counts aliases of an aliased fragment bomb without overflowing', () => {
    const levels = 80;
    const fragments = ['fragment F0 on Product { id }'];
    for (let i = 1; i <= levels; i += 1) fragments.push(`fragment F${i} on Product { a: related { ...F${i - 1} } b: related { ...F${i - 1} } }`);
    const source = `{ product(id: "1") { ...F${levels} } }\n${fragments.join('\n')}`;
    const { violation, figures } = analyze(source, undefined, { maxDepth: Infinity });
    expect(figures.aliases).toBe(Number.MAX_SAFE_INTEGER);
    expect(figures.cost).toBe(Number.MAX_SAFE_INTEGER);
    expect(violation?.extensions['code']).toBe('TOO_MANY_ALIASES');
  });

  it('terminates on fragment cycles (left for validation to reject)', () => {
    const source = `
      { product(id: "1") { ...A } }
      fragment A on Product { related { ...B } }
      fragment B on Product { related { ...A } }`;
    const { figures } = analyze(source);
    // product > related (A) > related (B) > the spread of A, already being measured, adds nothing.
    expect(figures.depth).toBe(3);
  });
});

describe('operation selection', () => {
  it('measures the named operation only', () => {
    const source = `query Small { expensive } query Deep ${nested(20)}`;
    const document = parse(source);
    expect(limits.analyze(source, document, {}, 'Small').violation).toBeNull();
    expect(limits.analyze(source, document, {}, 'Deep').violation?.extensions['code']).toBe('QUERY_TOO_DEEP');
    // Ambiguous (no name, two operations): the worst one counts.
    expect(limits.analyze(source, document, {}, undefined).violation?.extensions['code']).toBe('QUERY_TOO_DEEP');
  });
});
