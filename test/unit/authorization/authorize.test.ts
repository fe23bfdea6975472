import { executeSync, parse, print, validate, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS, type Principal } from '../../../src/auth/principal.ts';
import {
  applyRemovedFields,
  authorizeOperation,
  AUTHORIZATION_TYPENAME_ALIAS,
  buildAuthorizationIndex,
  errorsForRemoved,
  MAX_ERROR_PATHS_PER_REMOVED_FIELD,
  nullRemovedFields,
  PUBLIC_PERMISSION_KEY,
  type AuthorizeOperationOptions,
  type PolicyEvaluator,
} from '../../../src/authorization/index.ts';
import { fixture } from './fixtureSupergraph.ts';

const index = buildAuthorizationIndex(fixture.apiSchema, fixture.supergraphSdl);

const user = (scopes: string[], subject = 'u1'): Principal => ({ kind: 'user', subject, scopes, tier: undefined });

/** Resolver-free data: graphql-js' default resolvers read properties, `__typename` picks types. */
function product(i: number): Record<string, unknown> {
  return {
    __typename: 'Product',
    id: `p${i}`,
    label: `label ${i}`,
    name: `Product ${i}`,
    costPrice: 100 + i, // present in the source data: it must never reach an unauthorized caller
    priceHistory: [1, 2],
    internalCode: `IC-${i}`,
    supplier: { id: 's1', name: 'ACME' },
    variants: [{ sku: `sku-${i}`, margin: 0.3 }],
    related: [],
    reviews: [{ id: `r${i}`, body: 'ok', author: 'ann' }],
  };
}
const article = { __typename: 'Article', id: 'a1', label: 'draft', title: 'News' };
const rootValue = {
  product: () => product(1),
  products: ({ first }: { first: number }) => Array.from({ length: first }, (_, i) => product(i)),
  node: ({ id }: { id: string }) => (id.startsWith('a') ? article : product(1)),
  search: () => [product(1), article, product(2)],
  secretStats: { views: 42 },
  addReview: () => ({ id: 'r9', body: 'new' }),
  ping: true,
};

function run(
  source: string,
  principal: Principal,
  options: Partial<AuthorizeOperationOptions> & { variables?: Record<string, unknown> } = {},
) {
  const document = parse(source);
  const result = authorizeOperation({ index, document, principal, mode: 'filter', ...options });
  // The filtered document must still be a valid operation for the same schema.
  expect(validate(fixture.apiSchema, result.document).map(String)).toEqual([]);
  const executed = result.nothingToExecute
    ? { data: {} }
    : executeSync({
        schema: fixture.apiSchema,
        document: result.document,
        rootValue,
        variableValues: options.variables ?? {},
      });
  expect(executed.errors).toBeUndefined();
  const { data, errors } = applyRemovedFields(executed.data as Record<string, unknown>, result.removed);
  return { document, result, data, errors: errors.map((error) => error.toJSON()) };
}

describe('buildAuthorizationIndex', () => {
  it('reads field, type and return-type requirements from the composed supergraph', () => {
    expect(index.fieldRequirement('Product', 'costPrice')?.scopes).toEqual([[['admin', 'finance'], ['pricing:internal']]]);
    expect(index.fieldRequirement('Product', 'name')).toBeUndefined();
    // Supplier is @authenticated as a type: a field returning it needs authentication, plus its own policy.
    expect(index.fieldRequirement('Product', 'supplier')).toMatchObject({
      authenticated: true,
      policies: [[['supplier_view']]],
    });
    expect(index.fieldRequirement('Query', 'secretStats')?.scopes).toEqual([[['stats:read']]]);
    expect(index.fieldRequirement('Mutation', 'addReview')).toMatchObject({
      authenticated: true,
      scopes: [[['review:write']]],
    });
  });

  it('makes an interface field require what any implementation requires', () => {
    expect(index.fieldRequirement('Node', 'label')?.authenticated).toBe(true);
    expect(index.fieldRequirement('Node', 'id')).toBeUndefined();
    expect(index.possibleTypes('Node')).toEqual(['Article', 'Product']);
  });
});

describe('authorizeOperation: filtering', () => {
  it('nulls a removed field at every list index with capped FORBIDDEN errors', () => {
    const { result, data, errors } = run('{ products(first: 25) { id costPrice } }', user(['catalog:read']));
    expect(result.removed).toEqual([
      expect.objectContaining({ path: ['products', 'costPrice'], coordinate: 'Product.costPrice', code: 'FORBIDDEN' }),
    ]);
    expect(print(result.document)).not.toContain('costPrice');
    const products = (data as { products: Record<string, unknown>[] }).products;
    expect(products).toHaveLength(25);
    expect(products.every((item) => item['costPrice'] === null)).toBe(true);
    // The helper __typename never reaches the client.
    expect(products.some((item) => AUTHORIZATION_TYPENAME_ALIAS in item)).toBe(false);
    expect(products[3]).toEqual({ id: 'p3', costPrice: null });
    expect(errors).toHaveLength(MAX_ERROR_PATHS_PER_REMOVED_FIELD);
    expect(errors[0]).toEqual({
      message:
        'Not authorized to access Product.costPrice: requires scopes admin and finance or scope pricing:internal',
      path: ['products', 0, 'costPrice'],
      extensions: { code: 'FORBIDDEN', pathCount: 25 },
    });
    expect(errors.map((error) => error.path)).toEqual(
      Array.from({ length: 10 }, (_, i) => ['products', i, 'costPrice']),
    );
  });

  it('answers an anonymous caller with UNAUTHENTICATED', () => {
    const { result, errors } = run('{ product(id: "1") { name costPrice supplier { name } } }', ANONYMOUS);
    expect(result.removed.map((field) => [field.coordinate, field.code])).toEqual([
      ['Product.costPrice', 'UNAUTHENTICATED'],
      ['Product.supplier', 'UNAUTHENTICATED'],
    ]);
    expect(errors.map((error) => error.message)).toEqual([
      'Not authorized to access Product.costPrice: requires scopes admin and finance or scope pricing:internal',
      'Not authorized to access Product.supplier: requires authentication',
    ]);
  });

  it('applies OR between scope groups and AND within a group', () => {
    const query = '{ product(id: "1") { costPrice } }';
    const allowed = (scopes: string[]) => run(query, user(scopes)).result.removed.length === 0;
    expect(allowed(['pricing:internal'])).toBe(true);
    expect(allowed(['admin', 'finance'])).toBe(true);
    expect(allowed(['admin'])).toBe(false);
    expect(allowed(['finance', 'other'])).toBe(false);
    expect(allowed([])).toBe(false);
  });

  it('keeps the parent object when its selection becomes empty', () => {
    const { data, result } = run('{ product(id: "1") { costPrice } }', user([]));
    expect(data).toEqual({ product: { costPrice: null } });
    expect(result.nothingToExecute).toBe(false);
  });

  it('removes a field guarded by its return type and reports it at the field', () => {
    const { data, errors } = run('{ secretStats { views } product(id: "1") { name } }', user(['other']));
    expect(data).toEqual({ secretStats: null, product: { name: 'Product 1' } });
    expect(errors).toEqual([
      {
        message: 'Not authorized to access Query.secretStats: requires scope stats:read',
        path: ['secretStats'],
        extensions: { code: 'FORBIDDEN', pathCount: 1 },
      },
    ]);
  });

  it('filters a named fragment once and reports it at every place it is spread, with aliases', () => {
    const source = `
      query Page {
        one: product(id: "1") { ...Prices }
        many: products(first: 2) { ...Prices }
        node(id: "a1") { ...Prices id }
      }
      fragment Prices on Product { id cp: costPrice variants(first: 1) { sku m: margin } }`;
    const { result, data, errors } = run(source, user([]));
    expect(result.removed.map((field) => field.path)).toEqual([
      ['one', 'cp'],
      ['one', 'variants', 'm'],
      ['many', 'cp'],
      ['many', 'variants', 'm'],
      ['node', 'cp'],
      ['node', 'variants', 'm'],
    ]);
    const page = data as Record<string, any>;
    expect(page['one']).toEqual({ id: 'p1', cp: null, variants: [{ sku: 'sku-1', m: null }] });
    expect(page['many'][1]).toEqual({ id: 'p1', cp: null, variants: [{ sku: 'sku-1', m: null }] });
    // The node is an Article: the Product fragment does not apply, so no null and no error there.
    expect(page['node']).toEqual({ id: 'a1' });
    expect(errors.filter((error) => error.path?.[0] === 'node')).toEqual([]);
    expect(errors.map((error) => error.path)).toContainEqual(['many', 1, 'variants', 0, 'm']);
  });

  it('applies a removal only to the concrete types it belongs to in abstract selections', () => {
    // Both branches lose a field, so both kinds of object carry the helper typename: the
    // Product removal must still not add `x` to the Article.
    const source = '{ search { ... on Product { id x: costPrice } ... on Article { title label } } }';
    const { data, errors } = run(source, ANONYMOUS);
    expect(data).toEqual({
      search: [
        { id: 'p1', x: null },
        { title: 'News', label: null },
        { id: 'p2', x: null },
      ],
    });
    expect(errors.map((error) => error.path)).toEqual([
      ['search', 0, 'x'],
      ['search', 2, 'x'],
      ['search', 1, 'label'],
    ]);
  });

  it('keeps a value another branch produced under the same response name', () => {
    const source = '{ search { ... on Product { x: costPrice } ... on Article { x: title } } }';
    const { data, errors } = run(source, user([]));
    expect(data).toEqual({ search: [{ x: null }, { x: 'News' }, { x: null }] });
    expect(errors).toHaveLength(2);
  });

  it('checks an interface field against every implementation (conservative)', () => {
    const { result, data } = run('{ node(id: "p1") { id label } }', ANONYMOUS);
    expect(result.removed).toEqual([
      expect.objectContaining({ coordinate: 'Node.label', code: 'UNAUTHENTICATED', possibleTypes: ['Article', 'Product'] }),
    ]);
    expect(data).toEqual({ node: { id: 'p1', label: null } });
  });

  it('propagates the null of a removed non-null field to the nearest nullable parent', () => {
    const { data, errors } = run('{ product(id: "1") { id internalCode } }', ANONYMOUS);
    expect(data).toEqual({ product: null });
    expect(errors.map((error) => error.path)).toEqual([['product', 'internalCode']]);
  });

  it('drops variables and fragments only the removed fields used', () => {
    const source = `
      query ($days: Int) { product(id: "1") { id priceHistory(days: $days) ...Secret } }
      fragment Secret on Product { costPrice }`;
    const { result } = run(source, user([]), { variables: { days: 3 } });
    const printed = print(result.document);
    expect(printed).not.toContain('$days');
    expect(printed).toContain('fragment Secret on Product');
    expect(result.removed.map((field) => field.coordinate)).toEqual(['Product.priceHistory', 'Product.costPrice']);
  });

  it('returns the same document object and the public key when nothing is guarded', () => {
    const document = parse('{ products { id name } }');
    const result = authorizeOperation({ index, document, principal: ANONYMOUS, mode: 'filter' });
    expect(result).toEqual({
      document,
      removed: [],
      rejected: false,
      nothingToExecute: false,
      permissionKey: PUBLIC_PERMISSION_KEY,
    });
    expect(result.document).toBe(document);
  });

  it('returns the same document object when the principal may see everything it touches', () => {
    const document = parse('{ product(id: "1") { costPrice } }');
    const result = authorizeOperation({ index, document, principal: user(['pricing:internal']), mode: 'filter' });
    expect(result.document).toBe(document);
    expect(result.removed).toEqual([]);
    expect(result.permissionKey).not.toBe(PUBLIC_PERMISSION_KEY);
  });
});

describe('authorizeOperation: mutations and reject mode', () => {
  const mutation = 'mutation { addReview(productId: "1", body: "hi") { id } }';

  it('flags nothingToExecute when the only root field is forbidden', () => {
    const { result, data, errors } = run(mutation, user(['catalog:read']));
    expect(result.nothingToExecute).toBe(true);
    expect(result.rejected).toBe(false);
    expect(data).toEqual({ addReview: null });
    expect(errors).toEqual([
      {
        message: 'Not authorized to access Mutation.addReview: requires scope review:write',
        path: ['addReview'],
        extensions: { code: 'FORBIDDEN', pathCount: 1 },
      },
    ]);
    expect(run(mutation, ANONYMOUS).errors[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED', pathCount: 1 });
  });

  it('still executes the allowed root fields of a mutation', () => {
    const { result, data } = run('mutation { ping addReview(productId: "1", body: "x") { id } }', user([]));
    expect(result.nothingToExecute).toBe(false);
    expect(data).toEqual({ ping: true, addReview: null });
  });

  it('reject mode refuses the operation and leaves the document untouched', () => {
    const document = parse('{ products { id costPrice } }');
    const result = authorizeOperation({ index, document, principal: user([]), mode: 'reject' });
    expect(result.rejected).toBe(true);
    expect(result.nothingToExecute).toBe(true);
    expect(result.document).toBe(document);
    expect(errorsForRemoved(undefined, result.removed).map((error) => error.toJSON())).toEqual([
      {
        message:
          'Not authorized to access Product.costPrice: requires scopes admin and finance or scope pricing:internal',
        extensions: { code: 'FORBIDDEN' },
      },
    ]);
    const granted = authorizeOperation({ index, document, principal: user(['pricing:internal']), mode: 'reject' });
    expect(granted.rejected).toBe(false);
  });
});

describe('authorizeOperation: policies', () => {
  const query = '{ product(id: "1") { supplier { name } } }';

  it('denies policies without an evaluator and asks the evaluator once per group', () => {
    expect(run(query, user([])).result.removed[0]).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'requires policy supplier_view',
    });
    const asked: string[][] = [];
    const policy: PolicyEvaluator = (policies, principal) => {
      asked.push(policies);
      return principal.kind === 'user' && principal.subject === 'staff';
    };
    expect(run(query, user([], 'staff'), { policy }).data).toEqual({ product: { supplier: { name: 'ACME' } } });
    expect(run(query, user([], 'guest'), { policy }).data).toEqual({ product: { supplier: null } });
    expect(asked).toEqual([['supplier_view'], ['supplier_view']]);
  });
});

describe('permissionKey', () => {
  const source = '{ product(id: "1") { name costPrice supplier { name } } }';
  const keyFor = (document: DocumentNode, principal: Principal) =>
    authorizeOperation({ index, document, principal, mode: 'filter' }).permissionKey;

  it('is equal for principals with the same relevant permissions, different otherwise', () => {
    const document = parse(source);
    const base = keyFor(document, user(['pricing:internal'], 'a'));
    // Other subject, irrelevant extra scope: same outcome on every requirement → same key.
    expect(keyFor(document, user(['pricing:internal', 'review:write'], 'b'))).toBe(base);
    expect(keyFor(document, user([], 'a'))).not.toBe(base);
    expect(keyFor(document, ANONYMOUS)).not.toBe(keyFor(document, user([])));
    // Keys depend on what the document touches, not on the document object.
    expect(keyFor(parse(source), user(['pricing:internal'], 'c'))).toBe(base);
  });

  it('never maps two different filter results to one key', () => {
    const document = parse(source);
    const principals = [
      ANONYMOUS,
      user([]),
      user(['admin']),
      user(['admin', 'finance']),
      user(['pricing:internal']),
      user(['pricing:internal', 'stats:read']),
    ];
    const byKey = new Map<string, string>();
    for (const principal of principals) {
      const result = authorizeOperation({ index, document, principal, mode: 'filter' });
      const outcome = JSON.stringify([print(result.document), result.removed]);
      const previous = byKey.get(result.permissionKey);
      if (previous !== undefined) expect(outcome).toBe(previous);
      byKey.set(result.permissionKey, outcome);
    }
    // anonymous, no scopes, admin only (same as no scopes), admin+finance, pricing (same as admin+finance)
    expect(byKey.size).toBe(3);
  });

  it('serves repeated requests from the per-document cache', () => {
    const document = parse(source);
    const first = authorizeOperation({ index, document, principal: user([], 'a'), mode: 'filter' });
    const second = authorizeOperation({ index, document, principal: user([], 'b'), mode: 'filter' });
    expect(second.document).toBe(first.document);
    expect(second.removed).toBe(first.removed);
  });
});

describe('authorizeOperation: bombs', () => {
  it('rejects a fragment bomb whose removed paths would explode, even in filter mode', () => {
    const levels = 16; // 2^16 distinct response paths to one removed field
    const fragments = ['fragment F0 on Product { costPrice }'];
    for (let i = 1; i <= levels; i += 1) {
      fragments.push(`fragment F${i} on Product { a: related { ...F${i - 1} } b: related { ...F${i - 1} } }`);
    }
    const document = parse(`{ product(id: "1") { ...F${levels} } }\n${fragments.join('\n')}`);
    const result = authorizeOperation({ index, document, principal: user([]), mode: 'filter' });
    expect(result.rejected).toBe(true);
    expect(result.nothingToExecute).toBe(true);
    expect(result.document).toBe(document);
    expect(result.removed).toEqual([expect.objectContaining({ coordinate: 'Product.costPrice', path: [] })]);
  });
});

describe('nullRemovedFields', () => {
  it('nulls the removed paths in place and strips the helper alias', () => {
    const document = parse('{ products(first: 2) { id costPrice } }');
    const { removed } = authorizeOperation({ index, document, principal: user([]), mode: 'filter' });
    const data = {
      products: [
        { id: 'p0', [AUTHORIZATION_TYPENAME_ALIAS]: 'Product' },
        { id: 'p1', [AUTHORIZATION_TYPENAME_ALIAS]: 'Product' },
      ],
      [AUTHORIZATION_TYPENAME_ALIAS]: 'Query',
    };
    expect(errorsForRemoved(data, removed)).toHaveLength(2);
    expect(nullRemovedFields(data, removed)).toEqual({
      products: [
        { id: 'p0', costPrice: null },
        { id: 'p1', costPrice: null },
      ],
    });
  });
});
