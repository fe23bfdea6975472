/**
 * Composes the subgraph SDLs listed in a manifest into one Federation 2 supergraph.
 *
 * `npm run compose [-- --manifest <path>] [-- --out <path>]` writes `schemas/supergraph.graphql`
 * by default. On failure it prints one error per line to stderr and exits 1, so CI and humans
 * see every problem at once instead of fixing them one run at a time.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { composeServices } from '@apollo/composition';
import { GraphQLError, parse } from 'graphql';
import type { DocumentNode } from 'graphql';

const SCHEMAS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');

/** Manifest read when `--manifest` is not given. */
export const DEFAULT_MANIFEST_PATH = resolve(SCHEMAS_DIR, 'subgraphs.json');

/** Supergraph written when `--out` is not given; committed, and loaded by the gateway. */
export const DEFAULT_SUPERGRAPH_PATH = resolve(SCHEMAS_DIR, 'supergraph.graphql');

/** One manifest entry: a subgraph's name, its SDL file (relative to the manifest) and its URL. */
export interface ManifestEntry {
  name: string;
  file: string;
  url: string;
}

/** Outcome of {@link composeFromManifest}: the supergraph, or every problem found (one line each). */
export type ComposeResult = { supergraphSdl: string } | { errors: string[] };

/** Collapses a multi-line message so that "one error per line" holds on stderr. */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Reads and checks the manifest's shape.
 * @returns the entries, or the list of problems with the manifest itself.
 */
export function readManifest(manifestPath: string): ManifestEntry[] | string[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    return [`manifest ${manifestPath}: ${oneLine(err instanceof Error ? err.message : String(err))}`];
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    return [`manifest ${manifestPath}: expected a non-empty JSON array of {name, file, url}`];
  }
  const problems: string[] = [];
  const entries: ManifestEntry[] = [];
  raw.forEach((item: unknown, i) => {
    const e = item as Partial<Record<keyof ManifestEntry, unknown>> | null;
    if (
      typeof e !== 'object' || e === null ||
      typeof e.name !== 'string' || e.name === '' ||
      typeof e.file !== 'string' || e.file === '' ||
      typeof e.url !== 'string' || e.url === ''
    ) {
      problems.push(`manifest ${manifestPath}[${i}]: expected {name, file, url} as non-empty strings`);
      return;
    }
    entries.push({ name: e.name, file: e.file, url: e.url });
  });
  return problems.length > 0 ? problems : entries;
}

/**
 * Composes the subgraphs of a manifest with `@apollo/composition`.
 *
 * Never throws for bad input: unreadable files, syntax errors and composition errors are all
 * returned as `errors`, each a single line prefixed with where it came from.
 * @param manifestPath path to a JSON array of {@link ManifestEntry}; SDL paths resolve against
 *   the manifest's folder.
 */
export function composeFromManifest(manifestPath: string): ComposeResult {
  const manifest = readManifest(manifestPath);
  if (manifest.length > 0 && typeof manifest[0] === 'string') return { errors: manifest as string[] };
  const entries = manifest as ManifestEntry[];

  const errors: string[] = [];
  const services: { name: string; url: string; typeDefs: DocumentNode }[] = [];
  for (const entry of entries) {
    const sdlPath = resolve(dirname(manifestPath), entry.file);
    try {
      services.push({ name: entry.name, url: entry.url, typeDefs: parse(readFileSync(sdlPath, 'utf8')) });
    } catch (err) {
      const reason = err instanceof GraphQLError || err instanceof Error ? err.message : String(err);
      errors.push(`[${entry.name}] ${sdlPath}: ${oneLine(reason)}`);
    }
  }
  // Composing a partial set would only add misleading "missing type" errors.
  if (errors.length > 0) return { errors };

  const result = composeServices(services);
  if (result.errors) {
    return {
      errors: result.errors.map((e) => {
        const code = typeof e.extensions['code'] === 'string' ? `${e.extensions['code']}: ` : '';
        return oneLine(`${code}${e.message}`);
      }),
    };
  }
  return { supergraphSdl: result.supergraphSdl };
}

/** CLI entry: compose, then write the supergraph or report errors and exit 1. */
function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { manifest: { type: 'string' }, out: { type: 'string' } },
    strict: true,
  });
  const manifestPath = resolve(values.manifest ?? DEFAULT_MANIFEST_PATH);
  const outPath = resolve(values.out ?? DEFAULT_SUPERGRAPH_PATH);

  const result = composeFromManifest(manifestPath);
  if ('errors' in result) {
    for (const line of result.errors) process.stderr.write(`${line}\n`);
    process.stderr.write(`composition failed: ${result.errors.length} error(s); ${outPath} left unchanged\n`);
    return 1;
  }
  writeFileSync(outPath, result.supergraphSdl);
  process.stdout.write(`wrote ${outPath}\n`);
  return 0;
}

// Run only when executed directly, so tests can import composeFromManifest without side effects.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    // Bad CLI flags land here (parseArgs throws); say so on one line rather than a stack.
    process.stderr.write(`${oneLine(err instanceof Error ? err.message : String(err))}\n`);
    process.exitCode = 1;
  }
}
