/**
 * Differential conformance over the demo graph (schemas/, subgraphs-mock/): Portico on its
 * defaults and bare @apollo/gateway, over the same mocks and the same supergraph file, must give
 * identical `data` and the same presence of errors. The mocks send their cache hints, as in the
 * demo, so Portico answers from its entity cache wherever it can (every hand-written operation
 * is asked twice: the second answer comes from the cache) and must still answer the same.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_SUPERGRAPH_PATH } from '../../src/config/index.ts';
import { subgraphUrlOverrides } from '../../subgraphs-mock/index.ts';
import { PRODUCT_PAGE, startStack, type Stack } from '../helpers/portico.ts';
import { compareAll, fetchApiSchema, PORTICO_ENV, send, startOracle, type Operation, type Oracle } from './harness.ts';
import { DEFAULT_GENERATED_DEPTH, FEATURES } from './generate.ts';
import { expectConformance, gatedFields, generatedCount, generatedDepth, runSeed } from './suite.ts';


const SUPERGRAPH_PATH = resolve(DEFAULT_SUPERGRAPH_PATH);
const GATED = gatedFields(readFileSync(SUPERGRAPH_PATH, 'utf8'));
const SEED = runSeed();
const DEPTH = generatedDepth(DEFAULT_GENERATED_DEPTH);
const COUNT = generatedCount(300);

let stack: Stack;
let oracle: Oracle;
beforeAll(async () => {
  stack = await startStack(PORTICO_ENV, { cacheHints: true });
  // The file Portico loaded, with the same URL overrides.
  oracle = await startOracle(SUPERGRAPH_PATH, subgraphUrlOverrides(stack.mocks.mocks));
});
afterAll(async () => {
  await oracle?.stop();
  await stack?.stop();
});

const PAGE_FIELDS = 'id name description category price { amount currency } inventory { inStock quantity warehouse } reviews(first: $reviews) { id rating body author } averageRating';

const ONCE: Operation[] = [
  { name: 'product page (default page size)', query: PRODUCT_PAGE },
  { name: 'product page, 5 products', query: PRODUCT_PAGE, variables: { first: 5 } },
  {
    name: 'product page by category and offset',
    query: `query ProductPage($first: Int!, $offset: Int!, $category: String, $reviews: Int!) { products(first: $first, offset: $offset, category: $category) { ${PAGE_FIELDS} } }`,
    variables: { first: 12, offset: 3, category: 'garden', reviews: 2 },
  },
  ...['1', '600', '1200', '9999'].map((id) => ({
    name: `product detail, id ${id}`,
    query: `query ProductDetail($id: ID!, $reviews: Int!) { product(id: $id) { ${PAGE_FIELDS} } }`,
    variables: { id, reviews: 5 },
  })),
  { name: 'latest reviews', query: '{ latestReviews(first: 4) { id rating body author } }' },
  { name: 'last page of the catalogue', query: '{ products(first: 10, offset: 1195) { id name price { amount } } }' },
  { name: 'empty page', query: '{ products(first: 0) { id } }' },
  { name: 'a negative page size is a subgraph error', query: '{ products(first: -1) { id } }' },
  { name: 'a negative review count errors inside the page', query: '{ products(first: 2) { id reviews(first: -1) { id } } }' },
  { name: 'two products under aliases', query: '{ a: product(id: "7") { name } b: product(id: "8") { name price { amount } } }' },
  { name: '__typename everywhere', query: '{ __typename products(first: 2) { __typename id price { __typename currency } inventory { __typename } } }' },
];
const HAND_WRITTEN: Operation[] = [...ONCE, ...ONCE.map((op) => ({ ...op, name: `${op.name} (again, from the cache)` }))];

it('generated operations leave out only the authorization-gated fields (and mutations: queries only)', () => {
  expect([...GATED]).toEqual(['Mutation.addReview', 'Product.costPrice']);
});

it(`Portico answers like bare @apollo/gateway: hand-written and ${COUNT} generated operations`, async () => {
  await expectConformance(
    {
      label: 'demo',
      porticoUrl: stack.gw.graphqlUrl,
      oracleUrl: oracle.graphqlUrl,
      schema: await fetchApiSchema(oracle.graphqlUrl),
      seed: SEED,
      count: COUNT,
      handWritten: HAND_WRITTEN,
      generator: {
        depth: DEPTH,
        exclude: GATED,
        // Ids that exist, at both ends of the catalogue, and ones that do not; page sizes the
        // product UI uses, the SDL defaults (argument left out) and a negative one (an error).
        argumentValues: {
          'Query.product(id:)': ['1', '2', '17', '600', '1200', '0', '9999'],
          'Query.products(first:)': [0, 1, 2, 3, 5, 20, -1],
          'Query.products(offset:)': [0, 1, 10, 1195, 5000],
          'Query.products(category:)': ['books', 'garden', 'toys', 'nope', null],
          'Query.latestReviews(first:)': [0, 1, 3, 5],
          'Product.reviews(first:)': [0, 1, 2, 3, -1],
        },
      },
    },
    // The product pages are the demo app's own; the graph has no interface or union.
    { features: FEATURES.filter((f) => f !== 'abstractFragment') },
  );
}, 120_000);

it('authorization is the one designed difference: an anonymous caller gets costPrice null with an error, everything else identical', async () => {
  const op: Operation = { name: 'costPrice, anonymous', query: '{ products(first: 3) { id name costPrice { amount } price { amount currency } } }' };
  const [portico, bare] = await Promise.all([send(stack.gw.graphqlUrl, op), send(oracle.graphqlUrl, op)]);
  const expected = structuredClone(bare.body.data) as { products: { costPrice: unknown }[] };
  for (const p of expected.products) p.costPrice = null;
  expect(portico.body.data).toEqual(expected);
  expect(portico.body.errors?.map((e) => e.extensions?.['code'])).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
  expect(bare.body.errors).toBeUndefined();
  // The same operation without the gated field: no difference at all.
  const without = await compareAll([{ name: 'same, without costPrice', query: '{ products(first: 3) { id name price { amount currency } } }' }], { portico: stack.gw.graphqlUrl, oracle: oracle.graphqlUrl });
  expect(without.differences).toEqual([]);
});

it('the entity and response cache took part: answers above came from both levels', async () => {
  const text = await (await fetch(`${stack.gw.opsUrl}/metrics`)).text();
  const hits = (metric: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${metric}{`) && l.includes('result="hit"'))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  // Entities (and root fields) from the per-fetch level; repeated anonymous operations answered
  // whole, each of which would otherwise have been several entity hits. How many of each depends
  // on the run's random seed (9 to 54 of either seen): both levels must have answered some.
  expect(hits('portico_cache_lookups_total')).toBeGreaterThan(0);
  expect(hits('portico_cache_responses_total')).toBeGreaterThan(0);
});
