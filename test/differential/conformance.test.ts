/**
 * Differential conformance over a graph written for it (test/fixtures/conformance): entity
 * interfaces, `@interfaceObject`, unions, `@requires` (one through fragments on a union),
 * `@provides` (on a list and on a union), `@shareable`, nested lists, a nested-object key, and
 * errors with and without null propagation. Portico on its defaults and bare @apollo/gateway,
 * over the same subgraphs and supergraph file, must give identical `data` and the same presence
 * of errors.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startConformanceGraph, type RunningConformanceGraph } from '../fixtures/conformance/index.ts';
import {type Operation, type Pair, compareAll, fetchApiSchema, startPair } from './harness.ts';
import { FEATURES } from './generate.ts';
import { describeDifferences, expectConformance, gatedFields, generatedCount, generatedDepth, runSeed } from './suite.ts';


const SEED = runSeed();
const COUNT = generatedCount(200);
// Four levels: planning abstract types across four subgraphs costs ~0.1 s an operation at four
// and grows steeply beyond (seconds for some at five), in both gateways alike.
const DEPTH = generatedDepth(4);

let graph: RunningConformanceGraph;
let pair: Pair;
beforeAll(async () => {
  graph = await startConformanceGraph();
  pair = await startPair('conformance', graph.supergraphSdl);
});
afterAll(async () => {
  await pair?.stop();
  await graph?.stop();
});

const MEDIA_FIELDS = /* GraphQL */ `
  __typename id title year tags averageScore
  ... on Book { pages format { __typename ... on Paperback { weightG } ... on Hardcover { weightG dustJacket } ... on Ebook { sizeMb } } authors { id name born } toc readingHours shippingCost }
  ... on Movie { durationMin cast { id name } }
  ... on Podcast { episodes { number title } }
  reviews { id score text author { id name } }
  fans { id name }`;

const HAND_WRITTEN: Operation[] = [
  ...['b1', 'b2', 'm1', 'm2', 'c1', 'c2', 'x9'].map((id) => ({
    name: `media ${id} through the entity interface, every implementation`,
    query: `query Media($id: ID!) { media(id: $id) { ${MEDIA_FIELDS} } }`,
    variables: { id },
  })),
  { name: 'a non-null ISBN error nulls its book and, up the non-null list, all media', query: '{ allMedia(kind: BOOK) { id ... on Book { isbn } } }' },
  { name: 'the same error stops at a nullable root field', query: '{ media(id: "b3") { id ... on Book { isbn } } }' },
  { name: 'shelves: a nested list of an entity interface with a hole', query: '{ shelves { id title ... on Movie { cast { name } } averageScore } }' },
  { name: 'cast: nested lists of entities from another subgraph', query: '{ allMedia(kind: MOVIE) { ... on Movie { title cast { id name born favorite { id title } } } } }' },
  { name: '@requires pages and a union through fragments', query: '{ allMedia(kind: BOOK) { ... on Book { id pages readingHours shippingCost } } }' },
  { name: '@requires without selecting what it requires', query: '{ warehouses { books { readingHours shippingCost } } }' },
  { name: '@provides on a union: a person found by search', query: '{ search(term: "a") { __typename ... on Person { id name } ... on Media { id title } } }' },
  { name: '@provides on a union, with a field it does not provide', query: '{ search(term: "Ben") { ... on Person { name born email } } }' },
  { name: '@provides on a list: book authors', query: '{ allMedia(kind: BOOK) { ... on Book { authors { name } } } }' },
  { name: '@interfaceObject: a favourite whose concrete type only catalog knows', query: '{ people { id name favorite { __typename id title ... on Book { pages } ... on Movie { durationMin } } } }' },
  { name: '@interfaceObject from reviews, abstract again from the review', query: '{ topReviews(first: 7) { id score pinned author { name reviews { id } } media { __typename title averageScore reviews(first: 1) { text } } } }' },
  { name: '@shareable root field answered by two subgraphs', query: '{ p1: person(id: "p1") { id name reviews { score } } nobody: person(id: "p9") { id } }' },
  { name: 'a nested-object key: warehouses, across two subgraphs and back', query: '{ warehouses { region { country code } name capacity books { title stockedAt { name region { code } } } } }' },
  { name: 'a private email errors, the rest of the list stays', query: '{ people { id email } }' },
  { name: 'a negative limit is a client error from the subgraph', query: '{ search(term: "e", limit: -1) { __typename } }' },
  { name: 'an empty search', query: '{ search(term: "zzz") { __typename } }' },
];

/** Sent last: pinning is idempotent, so both gateways see the same state and answer. */
const MUTATIONS: Operation[] = [
  { name: 'idempotent mutation: pin a review', query: 'mutation { pinReview(id: "v3") { id pinned score media { title } author { name } } }' },
  { name: 'idempotent mutation: an unknown review', query: 'mutation { pinReview(id: "v99") { id } }' },
];

it(`Portico answers like bare @apollo/gateway: hand-written and ${COUNT} generated operations`, async () => {
  await expectConformance(
    {
      label: 'conformance',
      porticoUrl: pair.gw.graphqlUrl,
      oracleUrl: pair.oracle.graphqlUrl,
      schema: await fetchApiSchema(pair.oracle.graphqlUrl),
      seed: SEED,
      count: COUNT,
      handWritten: HAND_WRITTEN,
      generator: {
        depth: DEPTH,
        exclude: gatedFields(graph.supergraphSdl),
        argumentValues: {
          'Query.media(id:)': ['b1', 'b2', 'b3', 'm1', 'm2', 'c1', 'c2', 'x9'],
          'Query.person(id:)': ['p1', 'p2', 'p3', 'p4', 'p5', 'p9'],
          'Query.search(term:)': ['e', 'Ke', 'a', 'Ada', 'Sub', 'zz', ''],
          'Query.search(limit:)': [0, 1, 2, 5, 10, -1, null],
          'Query.topReviews(first:)': [0, 1, 3, 7],
          ...Object.fromEntries(['Media', 'Book', 'Movie', 'Podcast'].map((t) => [`${t}.reviews(first:)`, [0, 1, 2, null]])),
        },
      },
    },
    { features: FEATURES },
  );
}, 150_000);

it('idempotent mutations answer alike', async () => {
  const result = await compareAll(MUTATIONS, { portico: pair.gw.graphqlUrl, oracle: pair.oracle.graphqlUrl }, 1);
  expect(result.differences, describeDifferences(result)).toEqual([]);
  expect(result.compared).toBe(MUTATIONS.length);
});
