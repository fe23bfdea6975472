/**
 * One differential run over one supergraph: check the oracle is deterministic, then send the
 * hand-written and the generated operations to Portico and to the oracle and judge each pair.
 */
import { randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Kind, parse, type GraphQLSchema } from 'graphql';
import { expect } from 'vitest';
import { DEFAULT_GENERATED_DEPTH, FEATURES, generateOperations, type Feature, type GenerateOptions } from './generate.ts';
import { compareAll, describeCostRefusal, describeDifference, type Comparison, type Operation } from './harness.ts';

/** `PORTICO_DIFF_SEED` replays a run; otherwise every run draws a new seed (and prints it). */
export function runSeed(): number {
  const fixed = process.env['PORTICO_DIFF_SEED'];
  if (fixed === undefined || fixed === '') return randomInt(2 ** 31);
  const seed = Number(fixed);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`PORTICO_DIFF_SEED must be a non-negative integer, got ${JSON.stringify(fixed)}`);
  return seed;
}

/** `PORTICO_DIFF_COUNT` generates more (or fewer) operations per supergraph than the default. */
export function generatedCount(defaultCount: number): number {
  const raw = process.env['PORTICO_DIFF_COUNT'];
  if (raw === undefined || raw === '') return defaultCount;
  const count = Number(raw);
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`PORTICO_DIFF_COUNT must be a positive integer, got ${JSON.stringify(raw)}`);
  return count;
}

/**
 * `PORTICO_DIFF_DEPTH` generates deeper (or shallower) operations than the default, to explore;
 * planning time grows fast with depth on abstract types, and Portico's timeouts count it.
 */
export function generatedDepth(defaultDepth: number): number {
  const raw = process.env['PORTICO_DIFF_DEPTH'];
  if (raw === undefined || raw === '') return defaultDepth;
  const depth = Number(raw);
  if (!Number.isSafeInteger(depth) || depth < 1 || depth > 12) throw new Error(`PORTICO_DIFF_DEPTH must be an integer from 1 to 12 (Portico's default depth limit), got ${JSON.stringify(raw)}`);
  return depth;
}

/**
 * Fields a client may not see without credentials (`@authenticated`, `@requiresScopes`,
 * `@policy` on the field or its type), as `Type.field`. Portico filters them for anonymous
 * callers by design and the oracle does not enforce them, so generated operations leave them
 * out; a hand-written case checks the filtering leaves everything else identical.
 */
export function gatedFields(supergraphSdl: string): Set<string> {
  const gating = new Set(['authenticated', 'requiresScopes', 'policy']);
  const gated = new Set<string>();
  for (const definition of parse(supergraphSdl).definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    const wholeType = (definition.directives ?? []).some((d) => gating.has(d.name.value));
    for (const field of definition.fields ?? []) {
      if (wholeType || (field.directives ?? []).some((d) => gating.has(d.name.value))) gated.add(`${definition.name.value}.${field.name.value}`);
    }
  }
  return gated;
}

export interface DifferentialOptions {
  /** Names the supergraph in the output. */
  readonly label: string;
  readonly porticoUrl: string;
  readonly oracleUrl: string;
  /** The API schema, for the generator. */
  readonly schema: GraphQLSchema;
  readonly seed: number;
  readonly count: number;
  readonly handWritten: readonly Operation[];
  readonly generator?: Omit<GenerateOptions, 'schema' | 'seed' | 'count'>;
}

export interface DifferentialReport {
  readonly handWritten: Comparison;
  readonly generated: Comparison;
  /** Operations the oracle answered differently when asked twice (must be none). */
  readonly nondeterministic: readonly string[];
  /** How many generated operations use each feature. */
  readonly features: Readonly<Record<Feature, number>>;
  /** Mean attempts per generated operation (rejected attempts were invalid or over a limit). */
  readonly meanAttempts: number;
  readonly generatedCount: number;
  /** Generated operations sent to Portico as persisted queries. */
  readonly persisted: number;
  /** Where every difference and refusal is written in full. */
  readonly artifact: string;
}

/** Every this many generated operations, one is sent to Portico as a persisted query. */
const APQ_EVERY = 4;

/** Operations sent to the oracle twice before comparing: a nondeterministic field shows here first. */
const DETERMINISM_SAMPLE = 40;

export async function runDifferential(o: DifferentialOptions): Promise<DifferentialReport> {
  // First, so that a run that fails in any way can be replayed.
  console.log(`[differential ${o.label}] PORTICO_DIFF_SEED=${o.seed}: ${o.handWritten.length} hand-written and ${o.count} generated operations`);
  const generated = generateOperations({ ...o.generator, schema: o.schema, seed: o.seed, count: o.count });
  const ops: Operation[] = generated.map((g) => ({
    name: `generated #${g.index} of PORTICO_DIFF_SEED=${o.seed} (${o.label})`,
    query: g.query,
    variables: g.variables,
    // APQ is on by default: a share of the operations reach Portico by hash.
    viaApq: g.index % APQ_EVERY === APQ_EVERY - 1,
  }));
  const features = Object.fromEntries(FEATURES.map((f) => [f, generated.filter((g) => g.features.includes(f)).length])) as Record<Feature, number>;

  // The oracle against itself: identical answers to the same request, or nothing below means anything.
  const sample = [...o.handWritten, ...ops.slice(0, DETERMINISM_SAMPLE)].map((op) => ({ ...op, viaApq: false }));
  const self = await compareAll(sample, { portico: o.oracleUrl, oracle: o.oracleUrl });
  const nondeterministic = self.differences.map(describeDifference);

  const handWritten = await compareAll(o.handWritten, { portico: o.porticoUrl, oracle: o.oracleUrl });
  const generatedComparison = await compareAll(ops, { portico: o.porticoUrl, oracle: o.oracleUrl });
  const report = {
    handWritten,
    generated: generatedComparison,
    nondeterministic,
    features,
    meanAttempts: generated.reduce((n, g) => n + g.attempts, 0) / Math.max(1, generated.length),
    generatedCount: generated.length,
    persisted: ops.filter((op) => op.viaApq).length,
  };
  return { ...report, artifact: writeArtifact(o, report) };
}

/** How many differences a failure message spells out in full (all are counted). */
const SHOWN_DIFFERENCES = 5;

export function describeDifferences(c: Comparison): string {
  if (c.differences.length === 0) return 'no differences';
  const shown = c.differences.slice(0, SHOWN_DIFFERENCES).map(describeDifference).join('\n\n');
  const more = c.differences.length > SHOWN_DIFFERENCES ? `\n\n… and ${c.differences.length - SHOWN_DIFFERENCES} more: ${c.differences.slice(SHOWN_DIFFERENCES).map((d) => d.op.name).join(', ')}` : '';
  return `${c.differences.length} difference(s):\n\n${shown}${more}`;
}

/** The run's summary, printed by every differential test (the seed first, to replay it). */
export function summary(o: DifferentialOptions, r: DifferentialReport, elapsedMs: number): string {
  const refusals = [...r.handWritten.costRefusals, ...r.generated.costRefusals];
  const lines = [
    `[differential ${o.label}] PORTICO_DIFF_SEED=${o.seed}: ${r.handWritten.compared} hand-written + ${r.generated.compared} generated operations compared ` +
      `(${r.generatedCount} generated at depth ${o.generator?.depth ?? DEFAULT_GENERATED_DEPTH}, ${r.meanAttempts.toFixed(2)} attempts each, ${r.persisted} to Portico as persisted queries), ${r.handWritten.bothErrored + r.generated.bothErrored} with errors on both sides, ` +
      `${r.handWritten.differences.length + r.generated.differences.length} difference(s), ${refusals.length} refused as QUERY_TOO_COMPLEX, ${(elapsedMs / 1000).toFixed(1)} s`,
    `  features: ${Object.entries(r.features).map(([f, n]) => `${f} ${n}`).join(', ')}`,
    `  every difference and refusal in full: ${r.artifact}`,
  ];
  if (refusals.length > 0) {
    // The cost estimate refused queries the oracle answered: a finding for the cost model (issue 13
    // point 4), not tuned away here. Largest over-estimates first.
    const sorted = [...refusals].sort((a, b) => b.estimated / Math.max(1, b.actualObjects) - a.estimated / Math.max(1, a.actualObjects));
    lines.push(`  QUERY_TOO_COMPLEX refusals (estimate vs objects in the oracle's answer):`);
    for (const r2 of sorted) lines.push(`    ${r2.op.name}: estimated ${r2.estimated}, actual ${r2.actualObjects} objects`);
    lines.push(`  largest over-estimate:\n${describeCostRefusal(sorted[0]!).replace(/^/gm, '    ')}`);
  }
  return lines.join('\n');
}

/**
 * Writes every difference and cost refusal in full (operation, variables, both answers) to
 * `test-artifacts/differential-<label>.json`; the failure message shows only the first few.
 * @returns the path written.
 */
function writeArtifact(o: DifferentialOptions, r: Omit<DifferentialReport, 'artifact'>): string {
  const path = `test-artifacts/differential-${o.label}.json`;
  mkdirSync('test-artifacts', { recursive: true });
  const all = (c: Comparison) => ({ differences: c.differences, costRefusals: c.costRefusals });
  writeFileSync(path, JSON.stringify({ label: o.label, seed: o.seed, count: o.count, handWritten: all(r.handWritten), generated: all(r.generated), nondeterministic: r.nondeterministic }, null, 2));
  return path;
}

/** What a differential test asserts beyond "no difference". */
export interface ConformanceExpectations {
  /** Features some generated operation must use (a graph without abstract types has no `abstractFragment`). Default none. */
  readonly features?: readonly Feature[];
}

/**
 * The body of every differential test: runs, prints the summary (seed first), and asserts that
 * the oracle is deterministic, that no hand-written or generated operation differs, and that the
 * default cost limit refused none of them.
 */
export async function expectConformance(o: DifferentialOptions, expectations: ConformanceExpectations = {}): Promise<DifferentialReport> {
  const started = Date.now();
  const report = await runDifferential(o);
  console.log(summary(o, report, Date.now() - started));
  expect(report.nondeterministic, 'the oracle answered the same request differently twice').toEqual([]);
  expect(report.handWritten.differences, describeDifferences(report.handWritten)).toEqual([]);
  expect(report.generated.differences, describeDifferences(report.generated)).toEqual([]);
  expect(report.generated.compared + report.generated.costRefusals.length).toBe(o.count);
  // The cost defaults refuse no legitimate operation: none of an app's, none generated over the
  // schema (their real answers hold at most a few hundred objects), on any graph.
  expect(report.handWritten.costRefusals.map((r) => r.op.name)).toEqual([]);
  expect(report.generated.costRefusals.map((r) => `${r.op.name}: estimated ${r.estimated}, ${r.actualObjects} objects`)).toEqual([]);
  for (const feature of expectations.features ?? []) expect(report.features[feature], `generated operations using ${feature}`).toBeGreaterThan(0);
  return report;
}
