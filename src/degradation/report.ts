import type { GraphQLFormattedError } from 'graphql';
import type { DegradedFetch, DegradedSummary } from './types.ts';

/** At most this many concrete paths per failed fetch; the count says how many there were. */
export const MAX_PATHS_PER_ERROR = 10;

type Path = (string | number)[];

/**
 * Expands a plan path (`products.@`) against the response into concrete paths with real list
 * indices, then appends each field the failed fetch would have provided. Pure.
 */
export function concretePaths(data: unknown, record: Pick<DegradedFetch, 'pathPattern' | 'fields'>, limit = Infinity): { paths: Path[]; count: number } {
  const parents: Path[] = [];
  // A root fetch's fields hang off the root, whether or not null propagation removed `data`.
  if (record.pathPattern.length === 0) parents.push([]);
  else walk(data, record.pathPattern, 0, [], parents);
  const paths: Path[] = [];
  let count = 0;
  for (const parent of parents) {
    for (const field of record.fields) {
      count++;
      if (paths.length < limit) paths.push([...parent, field]);
    }
  }
  return { paths, count };
}

function walk(value: unknown, pattern: readonly (string | number)[], i: number, at: Path, out: Path[]): void {
  if (value === null || value === undefined) return;
  if (i === pattern.length) {
    if (Array.isArray(value)) value.forEach((v, idx) => walk(v, pattern, i, [...at, idx], out));
    else if (typeof value === 'object') out.push(at);
    return;
  }
  const step = pattern[i]!;
  if (step === '@' || Array.isArray(value)) {
    if (!Array.isArray(value)) return;
    // `@` consumes the step; an implicit list (nested lists in the plan path) does not.
    const next = step === '@' ? i + 1 : i;
    value.forEach((v, idx) => walk(v, pattern, next, [...at, idx], out));
    return;
  }
  if (typeof value === 'object' && step in (value as object)) {
    walk((value as Record<string, unknown>)[step as string], pattern, i + 1, [...at, step], out);
  }
}

/** Builds the client-facing error and summary for each degraded fetch. Pure. */
export function degradationReport(data: unknown, records: readonly DegradedFetch[]): { errors: GraphQLFormattedError[]; summary: DegradedSummary[] } {
  const errors: GraphQLFormattedError[] = [];
  const summary: DegradedSummary[] = [];
  for (const r of records) {
    const { paths, count } = concretePaths(data, r, MAX_PATHS_PER_ERROR);
    const what = r.coordinates.join(', ');
    const outcome = r.stale ? 'served from the last good values' : 'returned as null';
    errors.push({
      message: `[${r.service}] ${r.reason}; ${what} ${outcome}`,
      ...(paths[0] ? { path: paths[0] } : {}),
      extensions: {
        code: r.code,
        serviceName: r.service,
        breakerKey: r.key,
        affectedPaths: paths,
        affectedPathCount: count,
        ...(r.stale ? { stale: true } : {}),
      },
    });
    summary.push({ service: r.service, code: r.code, reason: r.reason, fields: [...r.coordinates], count, stale: r.stale });
  }
  return { errors, summary };
}
