import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, startPortico, type RunningPortico } from '../helpers/portico.ts';
import { startLibraryGraph } from '../fixtures/library/index.ts';

// Portico is a gateway for any federated graph: another team's supergraph, its own subgraphs.
let library: Awaited<ReturnType<typeof startLibraryGraph>>;
let gw: RunningPortico;
beforeAll(async () => {
  library = await startLibraryGraph();
  const dir = await mkdtemp(join(tmpdir(), 'portico-library-'));
  const file = join(dir, 'library.graphql');
  await writeFile(file, library.supergraphSdl);
  gw = await startPortico({ PORTICO_SUPERGRAPH_PATH: file });
});
afterAll(async () => {
  await gw?.stop();
  await library?.stop();
});

it('serves an unrelated supergraph, with URLs taken from the supergraph itself', async () => {
  const r = await gql(gw.graphqlUrl, '{ books { isbn title author { name } } }');
  expect(r.body.errors).toBeUndefined();
  expect(r.body.data.books).toEqual([
    { isbn: '978-0', title: 'The Federated Shelf', author: { name: 'Ada Quill' } },
    { isbn: '978-1', title: 'Gateways and Their Keepers', author: { name: 'Ben Ledger' } },
  ]);
  const demo = await gql(gw.graphqlUrl, '{ products { id } }');
  expect(demo.status).toBe(400);
});
