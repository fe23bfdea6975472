import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * Which operations the synthetic probes run: a JSON list in a file (PORTICO_PROBES_FILE), each
 * an operation by text (`query`) or by persisted id (`id`, the sha256 a trusted-documents
 * manifest or APQ knows it by). Pure apart from reading the file.
 */

/** Probe names become a metric label and a log field: short, plain. */
const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
/** A handful of key paths per instance; more is a load test, not a probe. */
export const MAX_PROBES = 20;

const probeSchema = z
  .object({
    name: z.string().regex(NAME_RE, 'expected 1-64 letters, digits, _ . -'),
    query: z.string().min(1).optional(),
    id: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex id').optional(),
    operationName: z.string().optional(),
    variables: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine((p) => (p.query === undefined) !== (p.id === undefined), 'give exactly one of query (text) and id (persisted id)');

export type ProbeDefinition = z.output<typeof probeSchema>;

/** Thrown when the probes file is unreadable or invalid; the message names the file and entry. */
export class ProbeDefinitionError extends Error {}

/** Parses a probes document. @throws ProbeDefinitionError naming each problem. */
export function parseProbes(text: string, source: string): ProbeDefinition[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ProbeDefinitionError(`${source}: not JSON (${(err as Error).message})`);
  }
  const parsed = z.array(probeSchema).max(MAX_PROBES).safeParse(json);
  if (!parsed.success) {
    throw new ProbeDefinitionError(`${source}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(list)'}: ${i.message}`).join('; ')}`);
  }
  const names = new Set<string>();
  for (const p of parsed.data) {
    if (names.has(p.name)) throw new ProbeDefinitionError(`${source}: probe name ${JSON.stringify(p.name)} used twice`);
    names.add(p.name);
  }
  return parsed.data;
}

/**
 * Reads the probes file. A missing file at the default path means "no probes" (a deployment
 * without the demo's file); anywhere else it is an error.
 */
export function loadProbes(path: string, missingIsEmpty: boolean): ProbeDefinition[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (missingIsEmpty && (err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ProbeDefinitionError(`${path}: cannot read (${(err as Error).message}) (PORTICO_PROBES_FILE)`);
  }
  try {
    return parseProbes(text, path);
  } catch (err) {
    throw new ProbeDefinitionError(`${(err as Error).message} (PORTICO_PROBES_FILE)`);
  }
}

/** The request body a probe sends. */
export function probeBody(p: ProbeDefinition): string {
  // Keys left undefined are not written.
  return JSON.stringify({
    query: p.query,
    extensions: p.query === undefined ? { persistedQuery: { version: 1, sha256Hash: p.id } } : undefined,
    operationName: p.operationName || undefined,
    variables: p.variables || undefined,
  });
}
