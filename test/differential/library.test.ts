/**
 * Differential conformance over the books graph (test/fixtures/library: books and authors,
 * another team's supergraph composed at test time): Portico on its defaults and bare
 * @apollo/gateway, over the same subgraphs and supergraph file, must give identical `data` and
 * the same presence of errors.
 */
import { afterAll, beforeAll, it } from 'vitest';
import { startPortico, type RunningPortico } from '../helpers/portico.ts';
import { startLibraryGraph } from '../fixtures/library/index.ts';
import { fetchApiSchema, startOracle, writeSupergraph, type Operation, type Oracle } from './harness.ts';
import { DEFAULT_GENERATED_DEPTH } from './generate.ts';
import { expectConformance, generatedCount, generatedDepth, runSeed } from './suite.ts';

/**
 * Portico's defaults, all features on, no faults. Only the anonymous quota is raised: hundreds
 * of operations from one client in a few seconds would otherwise be a rate-limit test.
 */
const PORTICO_ENV = { PORTICO_RATE_LIMITS: 'anonymous=1000000/1m' };

const SEED = runSeed();
const DEPTH = generatedDepth(DEFAULT_GENERATED_DEPTH);
// A small schema: fifty operations already repeat most of what it can express.
const COUNT = generatedCount(50);

let library: Awaited<ReturnType<typeof startLibraryGraph>>;
let gw: RunningPortico;
let oracle: Oracle;
beforeAll(async () => {
  library = await startLibraryGraph();
  const file = await writeSupergraph('library', library.supergraphSdl);
  [gw, oracle] = await Promise.all([startPortico({ ...PORTICO_ENV, PORTICO_SUPERGRAPH_PATH: file }), startOracle(file)]);
});
afterAll(async () => {
  await oracle?.stop();
  await gw?.stop();
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
    porticoUrl: gw.graphqlUrl,
    oracleUrl: oracle.graphqlUrl,
    schema: await fetchApiSchema(oracle.graphqlUrl),
    seed: SEED,
    count: COUNT,
    handWritten: HAND_WRITTEN,
    generator: { depth: DEPTH },
  });
}, 60_000);
