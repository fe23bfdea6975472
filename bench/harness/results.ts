/**
 * A run's results: Markdown for people (and for docs/benchmarks.md's summary tables) and JSON for
 * tools, in bench/results/ (git-ignored), and the headline tables on stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../devkit/paths.ts';
import { BASELINE, GATEWAYS, porticoEntryNote, type GatewayName, type GatewaySpec } from '../gateways/index.ts';
import { errorSampleLines, memoryTable, statsForJson, summarize, summaryTable } from '../lib/report.ts';
import { WORKLOADS, type Workload, type WorkloadId } from '../workloads.ts';
import type { RunContext } from './context.ts';
import type { MachineInfo } from './machine.ts';
import { progress } from './progress.ts';
import type { RoundsResult } from './rounds.ts';
import { soakMarkdown, type SoakPoint } from './soak.ts';

export const RESULTS_DIR = join(PROJECT_ROOT, 'bench', 'results');

/** Who ran what where: the lines every results file starts with. */
export interface RunHeader {
  readonly stamp: string;
  readonly machine: MachineInfo;
  readonly pinNote: string;
  readonly gateways: readonly GatewaySpec[];
}

/** Built when written, so notes added during the run are in it. */
function headerLines(ctx: RunContext, h: RunHeader): string[] {
  const { opts } = ctx;
  const { machine } = h;
  return [
    `# Benchmark run ${h.stamp}`,
    '',
    `- machine: ${machine.cpu}, nproc ${machine.cores}, ${machine.memoryGb} GB RAM, Linux ${machine.kernel}, Node ${machine.node}`,
    `- packages: ${Object.entries(machine.packages).map(([p, v]) => `${p} ${v}`).join(', ')}`,
    `- pinning: ${h.pinNote}`,
    `- load: autocannon, ${opts.connections} connections, no pipelining; warm-up ${opts.warmupS} s ` +
      `(+${opts.rewarmS} s before each later workload in the same process), measure ${opts.measureS} s, ${opts.rounds} round(s), gateways alternating`,
    `- subgraph latency: ${opts.latencyMs} ms`,
    ...(h.gateways.some((g) => g.name.startsWith('portico')) ? [`- portico: ${porticoEntryNote(PROJECT_ROOT)}`] : []),
    ...ctx.notes.map((n) => `- note: ${n}`),
  ];
}

function write(base: string, md: string, json: unknown): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.json`, JSON.stringify(json, null, 2));
}

export function writeSoakResults(ctx: RunContext, h: RunHeader, spec: GatewaySpec, workload: Workload, points: readonly SoakPoint[]): void {
  const base = join(RESULTS_DIR, `${h.stamp}-soak`);
  const table = soakMarkdown(spec, workload, points);
  write(base, [...headerLines(ctx, h), '', table, ''].join('\n'), {
    stamp: h.stamp,
    machine: h.machine,
    options: ctx.opts,
    gateway: spec.name,
    workload: workload.id,
    points: points.map((p) => ({ ...p, stats: statsForJson(p.stats) })),
  });
  process.stdout.write(`\n${table}\n\nwrote ${base}.md and .json\n`);
}

export function writeRunResults(ctx: RunContext, h: RunHeader, result: RoundsResult): void {
  const { opts, notes } = ctx;
  const { measurements, memory, egress } = result;
  const base = join(RESULTS_DIR, h.stamp);
  const names = h.gateways.map((g) => g.name);
  const rows = summarize(measurements, names, opts.workloads, (g) => GATEWAYS[g as GatewayName].dedup, BASELINE);
  const label = (id: string) => `${id} ${WORKLOADS[id as WorkloadId].name}`;
  const goldenLines = opts.workloads.map((w) => `- golden ${w}: ${ctx.golden.source(w) ?? 'none (no gateway answered acceptably)'}`);
  const egressLine = `- egress beyond loopback blocked by the guard: ${names.map((n) => `${n} ${egress.get(n) ?? 0}`).join(', ')}`;
  const md = [
    ...headerLines(ctx, h),
    ...goldenLines,
    egressLine,
    '',
    '## Throughput and latency',
    '',
    summaryTable(rows, label),
    '',
    ...(errorSampleLines(measurements).length > 0 ? ['### Error samples', '', ...errorSampleLines(measurements), ''] : []),
    '## Memory (after a full GC)',
    '',
    memoryTable(memory),
    '',
    '## Gateways',
    '',
    ...h.gateways.map((g) => `- **${g.name}**: ${g.summary}; dedup: ${g.dedup}`),
    '',
  ].join('\n');
  write(base, md, {
    stamp: h.stamp,
    machine: h.machine,
    pinning: h.pinNote,
    options: opts,
    notes,
    golden: Object.fromEntries(opts.workloads.flatMap((w) => (ctx.golden.source(w) === undefined ? [] : [[w, ctx.golden.source(w)]]))),
    egressBlocked: Object.fromEntries(egress),
    summary: rows,
    measurements: measurements.map((m) => ({ ...m, stats: statsForJson(m.stats) })),
    memory,
  });
  process.stdout.write(`\n${summaryTable(rows, label)}\n\n${memoryTable(memory)}\n\n${goldenLines.join('\n')}\n${egressLine}\n`);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  progress(`wrote ${base}.md and .json`);
}
