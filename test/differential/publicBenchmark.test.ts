/**
 * Differential conformance over the public federation benchmark's graph (bench/public:
 * accounts, products, inventory with `@requires`, reviews with `@provides`): Portico on its
 * defaults and bare @apollo/gateway, over the same subgraphs and supergraph file, must give
 * identical `data` and the same presence of errors. The benchmark's own query is among the
 * hand-written ones.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, it } from 'vitest';
import { composePublicSupergraph } from '../../bench/public/compose.ts';
import { startPublicSubgraphs, type RunningPublicSubgraphs } from '../../bench/public/server.ts';
import {type Operation, type Pair, fetchApiSchema, startPair } from './harness.ts';
import { DEFAULT_GENERATED_DEPTH } from './generate.ts';
import { expectConformance, generatedCount, generatedDepth, runSeed } from './suite.ts';


const SEED = runSeed();
const DEPTH = generatedDepth(DEFAULT_GENERATED_DEPTH);
const COUNT = generatedCount(60);

const TEST_QUERY = readFileSync(new URL('../../bench/public/test-query.graphql', import.meta.url), 'utf8');

let subgraphs: RunningPublicSubgraphs;
let pair: Pair;
beforeAll(async () => {
  subgraphs = await startPublicSubgraphs({ port: 0, delayMs: 0 });
  pair = await startPair('public', composePublicSupergraph(subgraphs.port));
});
afterAll(async () => {
  await pair?.stop();
  await subgraphs?.stop();
});

const HAND_WRITTEN: Operation[] = [
  { name: "the public benchmark's TestQuery", query: TEST_QUERY, operationName: 'TestQuery' },
  { name: '@requires: shipping estimates of the top products', query: '{ topProducts(first: 9) { upc price weight inStock shippingEstimate } }' },
  { name: '@provides: review authors, provided username and the rest', query: '{ topProducts { reviews { author { id username name } } } }' },
  { name: 'a user and their reviews', query: '{ me { id name reviews { body product { name } } } user(id: "4") { username } nobody: user(id: "99") { id } }' },
];

it(`Portico answers like bare @apollo/gateway: hand-written and ${COUNT} generated operations`, async () => {
  await expectConformance({
    label: 'public-benchmark',
    porticoUrl: pair.gw.graphqlUrl,
    oracleUrl: pair.oracle.graphqlUrl,
    schema: await fetchApiSchema(pair.oracle.graphqlUrl),
    seed: SEED,
    count: COUNT,
    handWritten: HAND_WRITTEN,
    generator: {
      depth: DEPTH,
      argumentValues: {
        'Query.user(id:)': ['1', '2', '6', '99'],
        'Query.topProducts(first:)': [0, 1, 5, 9],
      },
    },
  });
}, 90_000);
