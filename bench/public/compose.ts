/**
 * Composes the public benchmark's subgraphs into `bench/public/supergraph.graphql`.
 *
 * The committed file names the canonical port ({@link PUBLIC_CANONICAL_PORT}); the harness
 * rewrites the URLs to the port actually bound (see ../lib/supergraph.ts), so the file stays
 * byte-stable across runs. `npx tsx bench/public/compose.ts` regenerates it by hand.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { composeServices } from '@apollo/composition';
import { PUBLIC_SUBGRAPH_NAMES, PUBLIC_SUBGRAPHS } from './subgraphs.ts';

/** Port the committed supergraph names; the benchmark's own subgraphs listen on it too. */
export const PUBLIC_CANONICAL_PORT = 4200;

export const PUBLIC_SUPERGRAPH_PATH = fileURLToPath(new URL('./supergraph.graphql', import.meta.url));

/** `http://127.0.0.1:<port>/<name>`: one server, one path per subgraph, as in the benchmark. */
export function publicSubgraphUrl(name: string, port: number): string {
  return `http://127.0.0.1:${port}/${name}`;
}

/** @throws Error listing every composition error, one per line. */
export function composePublicSupergraph(port = PUBLIC_CANONICAL_PORT): string {
  const result = composeServices(
    PUBLIC_SUBGRAPH_NAMES.map((name) => ({
      name,
      url: publicSubgraphUrl(name, port),
      typeDefs: PUBLIC_SUBGRAPHS[name].typeDefs,
    })),
  );
  if (result.errors) {
    throw new Error(`public benchmark supergraph failed to compose:\n${result.errors.map((e) => e.message).join('\n')}`);
  }
  return result.supergraphSdl;
}

/**
 * Composes and writes the committed supergraph when its content changed.
 * @returns the path written (or left as it was).
 */
export function writePublicSupergraph(): string {
  const sdl = composePublicSupergraph();
  let current: string | undefined;
  try {
    current = readFileSync(PUBLIC_SUPERGRAPH_PATH, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== sdl) writeFileSync(PUBLIC_SUPERGRAPH_PATH, sdl);
  return PUBLIC_SUPERGRAPH_PATH;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.stdout.write(`wrote ${writePublicSupergraph()}\n`);
}
