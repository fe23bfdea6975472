import { buildSchema, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  actualCost,
  buildCostIndex,
  createOperationLimits,
  DEFAULT_LIST_SIZE,
  DEFAULT_MAX_COST,
  DEFAULT_SLICING_ARGUMENT_NAMES,
  estimateCost,
  MUTATION_BASE_COST,
  type OperationLimitsOptions,
} from '../../../src/hardening/index.ts';
import { fragmentsOf } from '../../../src/hardening/measure.ts';
import { demoOperations, PUBLIC_BENCHMARK_QUERY } from '../../fixtures/knownQueries.ts';
import { loadSupergraph } from '../../helpers/supergraphs.ts';
import { fixture } from '../authorization/fixtureSupergraph.ts';

/** The fixture supergraph carries @cost and @listSize (federation 2.9). */
function cost(source: string, variables?: Record<string, unknown>, options: OperationLimitsOptions = {}) {
  return createOperationLimits({ maxCost: Infinity, ...options }, { schema: fixture.apiSchema, supergraphSdl: fixture.supergraphSdl }).analyze(source, parse(source), variables, undefined)
    .figures.cost;
}

/** An abstract-type-heavy schema without a supergraph: only the model's defaults apply. */
const feedSchema = buildSchema(`
  type Query { feed(first: Int): [FeedItem!]! node(id: ID!): Node media: [Media!]! }
  interface Node { id: ID! }
  interface Media { id: ID! owner: User }
  union FeedItem = Post | Video | Ad
  type Post implements Node { id: ID! author: User comments(first: Int): [Comment!]! }
  type Video implements Node { id: ID! clips(first: Int): [Clip!]! }
  type Ad { id: ID! }
  type Comment { id: ID! author: User }
  type Clip { id: ID! }
  type User implements Node { id: ID! name: String }
  type Photo implements Media { id: ID! owner: User }
  type Song implements Media & Node { id: ID! owner: User artists: [User!]! }
`);
const feedIndex = buildCostIndex(feedSchema, undefined, { defaultListSize: DEFAULT_LIST_SIZE, slicingArgumentNames: DEFAULT_SLICING_ARGUMENT_NAMES });
function feedCost(source: string, variables?: Record<string, unknown>): number {
  const document = parse(source);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return estimateCost({ index: feedIndex, operation, fragments: fragmentsOf(document), variables });
}

describe('objects cost 1, leaves 0, lists multiply', () => {
  it('charges objects, not scalars', () => {
    expect(cost('{ product(id: "1") { id name label } }')).toBe(1);
    expect(cost('{ product(id: "1") { name supplier { name } } }')).toBe(2);
    expect(cost('{ expensive __typename }')).toBe(50); // @cost(weight: 50) on an Int; __typename is free
  });

  it('uses slicing arguments: provided, then their schema default', () => {
    expect(cost('{ products(first: 3) { id name } }')).toBe(3);
    expect(cost('{ products { id } }')).toBe(5); // first: Int = 5
    // A conventional page-size argument (limit) on a field without @listSize.
    expect(cost('{ topProducts(limit: 2) { id } }')).toBe(2);
    // Nested lists multiply: 3 products × (1 + 4 related).
    expect(cost('{ products(first: 3) { related(first: 4) { id } } }')).toBe(3 * (1 + 4));
  });

  it('uses @listSize(assumedSize) when no slicing argument says', () => {
    // search: [SearchResult!]! @listSize(assumedSize: 20)
    expect(cost('{ search { ... on Product { id } } }')).toBe(20);
  });

  it('uses @listSize(sizedFields) for connections: the page size applies to the edges', () => {
    // 1 connection + 4 edges × (1 edge + 1 node); totalCount and cursor are scalars.
    expect(cost('{ connection(first: 4) { totalCount edges { cursor node { id } } } }')).toBe(1 + 4 * 2);
  });

  it('assumes the configured list size for a list nothing sizes', () => {
    expect(cost('{ topProducts { id } }')).toBe(DEFAULT_LIST_SIZE);
    expect(cost('{ topProducts { id } }', undefined, { defaultListSize: 3 })).toBe(3);
    expect(cost('{ topProducts { related(first: 2) { id } } }', undefined, { defaultListSize: 6 })).toBe(6 * (1 + 2));
  });

  it('charges a mutation its base cost', () => {
    expect(cost('mutation { ping }')).toBe(MUTATION_BASE_COST);
    expect(cost('mutation { addReview(productId: "1", body: "x") { id } }')).toBe(MUTATION_BASE_COST + 1);
  });
});

describe('type conditions are alternatives', () => {
  it('a union costs its dearest member, not the sum of its fragments', () => {
    const query = '{ feed(first: 10) { ... on Post { comments(first: 5) { id } } ... on Video { clips(first: 3) { id } } ... on Ad { id } } }';
    // Each item is a Post, a Video or an Ad: 10 × (1 + max(5, 3, 0)). Summing would say 10 × 9.
    expect(feedCost(query)).toBe(10 * (1 + 5));
  });

  it('fragments on an interface and on a type implementing it add up for that type', () => {
    // Photo: 1 owner; Song: 1 owner + 10 artists. The interface fragment applies to both.
    expect(feedCost('{ media { ... on Media { owner { id } } ... on Song { artists { id } } } }')).toBe(10 * (1 + 1 + 10));
    // A field selected on the interface itself applies to every type.
    expect(feedCost('{ media { owner { id } ... on Photo { id } } }')).toBe(10 * (1 + 1));
  });

  it('named fragments are alternatives too, and fragments on other types do not apply', () => {
    const query = `
      { node(id: "1") { ...P ...V ...U } }
      fragment P on Post { author { id } comments(first: 2) { author { id } } }
      fragment V on Video { clips(first: 4) { id } }
      fragment U on User { name }`;
    // Post: 1 author + 2 × (1 + 1) = 5; Video: 4; User: 0 → node 1 + 5.
    expect(feedCost(query)).toBe(1 + 5);
  });
});

describe('@skip and @include', () => {
  it('fields and fragments excluded by a literal or a variable cost nothing; unknown values count', () => {
    const query = 'query ($c: Boolean = false) { feed(first: 10) { ... on Post @include(if: $c) { comments(first: 5) { id } } } }';
    expect(feedCost(query)).toBe(10);
    expect(feedCost(query, { c: true })).toBe(10 * (1 + 5));
    expect(feedCost('{ feed(first: 10) @skip(if: true) { ... on Ad { id } } }')).toBe(0);
    // No value and no default: an upper bound counts it.
    expect(feedCost('query ($c: Boolean) { feed(first: 10) { ... on Post @include(if: $c) { comments(first: 5) { id } } } }')).toBe(60);
  });
});

describe('actual cost', () => {
  it('counts objects below the root, list items one each, plus the mutation base', () => {
    const data = { products: [{ id: '1', price: { amount: 1 } }, { id: '2', price: null }], total: 2 };
    expect(actualCost(data, 'query')).toBe(3);
    expect(actualCost(data, 'mutation')).toBe(3 + MUTATION_BASE_COST);
    expect(actualCost(null, 'query')).toBe(0);
    expect(actualCost({ a: [[{ x: 1 }], [{ x: 2 }, { x: 3 }]] }, 'query')).toBe(3);
  });

  it('never exceeds the estimate when lists are within their sizes', () => {
    const query = '{ feed(first: 2) { ... on Post { author { id } comments(first: 3) { id } } ... on Video { clips(first: 1) { id } } } }';
    const data = { feed: [{ author: { id: 'u' }, comments: [{ id: 'c1' }, { id: 'c2' }] }, { clips: [{ id: 'k' }] }] };
    expect(actualCost(data, 'query')).toBe(6);
    expect(feedCost(query)).toBeGreaterThanOrEqual(actualCost(data, 'query'));
  });
});

describe('known legitimate operations fit the defaults', () => {
  const demo = loadSupergraph('schemas/supergraph.graphql');
  const bench = loadSupergraph('bench/public/supergraph.graphql');
  const estimate = (graph: typeof demo, query: string, variables?: Record<string, unknown>) =>
    createOperationLimits({}, graph).analyze(query, parse(query), variables, undefined);

  it('the public benchmark query: 23,315 (was ~103,000), below the default limit', () => {
    const { figures, violation } = estimate(bench, PUBLIC_BENCHMARK_QUERY);
    // users (10 assumed) × (1 + reviews 10 × (1 + product 1 + reviews 10 × (1 + author 1 + reviews 10 × 2)))
    // + topProducts (first: Int = 5) × (1 + reviews 10 × (1 + author 1 + reviews 10 × 2))
    expect(figures.cost).toBe(10 * (1 + 10 * (1 + 1 + 10 * (1 + 1 + 10 * 2))) + 5 * (1 + 10 * (1 + 1 + 10 * 2)));
    expect(figures.cost).toBe(23_315);
    expect(violation).toBeNull();
    expect(DEFAULT_MAX_COST / figures.cost).toBeGreaterThan(4);
  });

  it('every demo operation: at most 240, far below the default limit', () => {
    const estimates = demoOperations().map((op) => {
      const { figures, violation } = estimate(demo, op.query, op.variables);
      expect(violation, op.name).toBeNull();
      return [op.name, figures.cost] as const;
    });
    const byName = Object.fromEntries(estimates);
    expect(byName['README product page']).toBe(3 * (1 + 1 + 1 + 2)); // products × (1 + price + inventory + 2 reviews)
    expect(byName['tests PRODUCT_PAGE (first: 20)']).toBe(20 * (1 + 1 + 1 + 3));
    expect(Math.max(...estimates.map(([, c]) => c))).toBeLessThanOrEqual(240);
  });
});
