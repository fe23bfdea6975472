/**
 * Differential conformance over the books graph (test/fixtures/library: books and authors,
 * another team's supergraph composed at test time): Portico on its defaults and bare
 * @apollo/gateway, over the same subgraphs and supergraph file, must give identical `data` and
 * the same presence of errors.
 */
import { afterAll, beforeAll, it } from 'vitest';
import { startLibraryGraph } from '../fixtures/library/index.ts';
import {type Operation, type Pair, fetchApiSchema, startPair } from './harness.ts';
import { DEFAULT_GENERATED_DEPTH } from './generate.ts';
import { expectConformance, generatedCount, generatedDepth, runSeed } from './suite.ts';


const SEED = runSeed();
const DEPTH = generatedDepth(DEFAULT_GENERATED_DEPTH);
// A small schema: fifty operations already repeat most of what it can express.
const COUNT = generatedCount(50);

let library: Awaited<ReturnType<typeof startLibraryGraph>>;
let pair: Pair;
beforeAll(async () => {
  library = await startLibraryGraph();
  pair = await startPair('library', library.supergraphSdl);
});
afterAll(async () => {
  await pair?.stop();
  await library?.stop();
});

const HAND_WRITTEN: Operation[] = [
  { name: 'the shelf', query: '{ books { isbn title author { name } } }' },
  { name: 'author through a non-resolvable reference', query: '{ books { authorId author { id name } } }' },
  { name: 'typenames and an inline fragment', query: '{ __typename books { __typename ... on Book { title author { __typename } } } }' },
  { name: 'aliases and a named fragment', query: 'query Shelf { first: books { ...B } second: books { isbn } } fragment B on Book { title author { name } }' },
];

it(`Portico answers like bare @apollo/gateway: hand-written and ${COUNT} generated operations`, async () => {
  await expectConformance({
    label: 'library',
    porticoUrl: pair.gw.graphqlUrl,
    oracleUrl: pair.oracle.graphqlUrl,
    schema: await fetchApiSchema(pair.oracle.graphqlUrl),
    seed: SEED,
    count: COUNT,
    handWritten: HAND_WRITTEN,
    generator: { depth: DEPTH },
  });
}, 60_000);
