/**
 * `npm run bench` — Portico beside its peers on the same supergraph, port, load and machine.
 *
 *   npm run bench                          # all gateways × workloads a,c,b, 2 rounds (ETA printed; ~24 min for six)
 *   npm run bench -- --quick               # smoke run: 3 s warm-up, 5 s measure, 1 round
 *   npm run bench -- --only=apollo-gateway-default,hive-gateway --workload=a,c
 *   npm run bench -- --latency=50          # every subgraph answers 50 ms later
 *   npm run bench -- --soak=200000         # memory growth of Portico over 200k requests
 *
 * Method (docs/benchmarks.md has the long form): subgraphs run in their own child processes and
 * the load generator (autocannon, 50 connections) in this one, both pinned to core 0; each
 * gateway runs alone, pinned to core 1, started fresh per round and subgraph set, gateways
 * alternating A B C … A B C …. Before a gateway is timed, its answers are compared with golden
 * answers; a gateway that answers differently gets no figures. Results go to stdout and
 * bench/results/<timestamp>.{md,json}.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BASELINE, EXTRA_GATEWAYS, GATEWAY_ORDER, GATEWAYS, commonGatewayEnv, needsPorticoBuild, porticoEntryNote } from './gateways.ts';
import type { GatewayName, GatewaySpec } from './gateways.ts';
import { canonicalJson, firstDifference } from './lib/golden.ts';
import { freePort, getJson, postJson, waitUntil } from './lib/http.ts';
import { startCpuMeter } from './lib/cpu.ts';
import type { CpuUse } from './lib/cpu.ts';
import { runLoad } from './lib/load.ts';
import type { LoadStats } from './lib/load.ts';
import { countCores, installCleanupHandlers, pinSelf, spawnChild, stopAllChildren } from './lib/processes.ts';
import type { Child } from './lib/processes.ts';
import { errorSampleLines, memoryTable, statsForJson, summarize, summaryTable } from './lib/report.ts';
import type { Measurement, MemoryRecord, MemorySample } from './lib/report.ts';
import { forEveryGateway, formatUrlOverrides, withSubgraphUrls } from './lib/supergraph.ts';
import { PUBLIC_SUPERGRAPH_PATH, writePublicSupergraph } from './public/compose.ts';
import { EGRESS_MARKER, READY_PREFIX } from './lib/protocol.ts';
import type { SubgraphsReady } from './lib/protocol.ts';
import { WORKLOAD_ORDER, WORKLOADS } from './workloads.ts';
import type { SubgraphSet, Workload, WorkloadId } from './workloads.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = join(ROOT, 'bench', 'results');
const DEMO_SUPERGRAPH_PATH = join(ROOT, 'schemas', 'supergraph.graphql');
const PRELOAD_PATH = join(ROOT, 'bench', 'gateways', 'preload.ts');

/** Connections of the load generator: the public benchmark's 50 virtual users. */
const DEFAULT_CONNECTIONS = 50;
/** Warm-up before the first measurement in a gateway process, s: 5 s left JIT and caches cold. */
const DEFAULT_WARMUP_S = 20;
/** Warm-up before each later workload in the same (already warm) process, s. */
const DEFAULT_REWARM_S = 5;
const DEFAULT_MEASURE_S = 20;
const DEFAULT_ROUNDS = 2;
/** Startup budget of one gateway, ms: tsx compiles Portico on a shared, noisy 2-core machine. */
const GATEWAY_READY_TIMEOUT_MS = 90_000;
const SUBGRAPHS_READY_TIMEOUT_MS = 60_000;
/** Estimate per gateway start + golden check + stop, s (for the ETA only). */
const START_OVERHEAD_S = 6;
/** Soak checkpoints: memory is read this many times over the N requests. */
const SOAK_CHECKPOINTS = 10;
/** Pause before the one retry of a gateway that failed to start, ms. */
const START_RETRY_DELAY_MS = 10_000;

interface Options {
  quick: boolean;
  gateways: GatewayName[];
  workloads: WorkloadId[];
  rounds: number;
  latencyMs: number;
  warmupS: number;
  rewarmS: number;
  measureS: number;
  connections: number;
  soak: number | undefined;
}

function parseList<T extends string>(raw: string | undefined, allowed: readonly T[], what: string): T[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = items.filter((i) => !allowed.includes(i as T));
  if (bad.length > 0 || items.length === 0) throw new Error(`--${what}: unknown ${bad.join(', ') || '(empty)'}; allowed: ${allowed.join(', ')}`);
  return items as T[];
}

function parseNumber(raw: string | undefined, fallback: number, what: string, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${what} must be a number >= ${min}, got "${raw}"`);
  return n;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      workload: { type: 'string' },
      rounds: { type: 'string' },
      latency: { type: 'string' },
      warmup: { type: 'string' },
      rewarm: { type: 'string' },
      measure: { type: 'string' },
      connections: { type: 'string' },
      soak: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const workloads = parseList(values.workload, WORKLOAD_ORDER, 'workload') ?? [...WORKLOAD_ORDER];
  return {
    quick,
    gateways: parseList(values.only, [...GATEWAY_ORDER, ...EXTRA_GATEWAYS], 'only') ?? [...GATEWAY_ORDER],
    // Always run in the canonical order (a before c: c reuses a's warm process).
    workloads: WORKLOAD_ORDER.filter((w) => workloads.includes(w)),
    rounds: Math.floor(parseNumber(values.rounds, quick ? 1 : DEFAULT_ROUNDS, 'rounds', 1)),
    latencyMs: Math.floor(parseNumber(values.latency, 0, 'latency', 0)),
    warmupS: parseNumber(values.warmup, quick ? 3 : DEFAULT_WARMUP_S, 'warmup', 0),
    rewarmS: parseNumber(values.rewarm, quick ? 2 : DEFAULT_REWARM_S, 'rewarm', 0),
    measureS: parseNumber(values.measure, quick ? 5 : DEFAULT_MEASURE_S, 'measure', 1),
    connections: Math.floor(parseNumber(values.connections, DEFAULT_CONNECTIONS, 'connections', 1)),
    soak: values.soak === undefined ? undefined : Math.floor(parseNumber(values.soak, 0, 'soak', 1)),
  };
}

// ── progress ───────────────────────────────────────────────────────────────────────────────────
const startedAt = Date.now();
function progress(message: string): void {
  const s = Math.floor((Date.now() - startedAt) / 1000);
  process.stdout.write(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${message}\n`);
}

// ── machine ────────────────────────────────────────────────────────────────────────────────────
function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

function machineInfo(cores: number) {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    kernel: release(),
    node: process.version,
    packages: Object.fromEntries(
      ['@apollo/gateway', '@apollo/server', '@graphql-hive/gateway', '@graphql-hive/gateway-runtime', 'autocannon', 'graphql'].map((p) => [
        p,
        packageVersion(p),
      ]),
    ),
  };
}

// ── subgraphs ──────────────────────────────────────────────────────────────────────────────────
interface RunningSet {
  readonly set: SubgraphSet;
  readonly child: Child;
  readonly ready: SubgraphsReady;
  /** The committed supergraph rewritten to this run's subgraph URLs. */
  readonly supergraphPath: string;
}

async function startSubgraphs(set: SubgraphSet, opts: Options, env: NodeJS.ProcessEnv, workDir: string, cpu: number | undefined): Promise<RunningSet> {
  const child = spawnChild({
    name: `subgraphs-${set}`,
    nodeArgs: ['--import', 'tsx', join(ROOT, 'bench', 'subgraphs', 'main.ts'), set],
    env: { ...env, BENCH_SUBGRAPH_DELAY_MS: String(opts.latencyMs) },
    cwd: ROOT,
    cpu,
    logPath: join(workDir, `subgraphs-${set}.log`),
  });
  const ready = JSON.parse(await child.waitForLine(READY_PREFIX, SUBGRAPHS_READY_TIMEOUT_MS)) as SubgraphsReady;
  if (set === 'demo' && opts.latencyMs > 0) {
    // The mocks' shared fault switch; the public subgraphs got BENCH_SUBGRAPH_DELAY_MS instead.
    for (const [name, url] of Object.entries(ready.faultUrls)) {
      const res = await postJson(url, JSON.stringify({ latencyMs: opts.latencyMs }));
      if (res.status !== 200 || (JSON.parse(res.text) as { latencyMs?: number }).latencyMs !== opts.latencyMs) {
        throw new Error(`[${name}] mock refused latencyMs=${opts.latencyMs}: HTTP ${res.status} ${res.text}`);
      }
    }
  }
  const source = set === 'demo' ? DEMO_SUPERGRAPH_PATH : PUBLIC_SUPERGRAPH_PATH;
  const supergraphPath = join(workDir, `supergraph-${set}.graphql`);
  writeFileSync(supergraphPath, forEveryGateway(withSubgraphUrls(readFileSync(source, 'utf8'), ready.urls)));
  progress(`subgraphs ${set}: ${Object.entries(ready.urls).map(([n, u]) => `${n}=${u}`).join(' ')}${opts.latencyMs > 0 ? ` (+${opts.latencyMs} ms)` : ''}`);
  void child.exited.then((how) => {
    if (!shuttingDown) progress(`subgraphs ${set} (pid ${child.pid}) exited unexpectedly: ${how}`);
  });
  return { set, child, ready, supergraphPath };
}

let shuttingDown = false;

/**
 * The running subgraphs of a set, restarted (on new ports, with a new supergraph file) when
 * something outside the harness stopped them, so one lost process does not void a whole run.
 */
async function ensureSubgraphs(ctx: RunContext, set: SubgraphSet): Promise<RunningSet | undefined> {
  const running = ctx.sets.get(set);
  if (running === undefined || !running.child.hasExited()) return running;
  progress(`subgraphs ${set}: restarting`);
  const restarted = await startSubgraphs(set, ctx.opts, ctx.env, ctx.workDir, ctx.helperCpu);
  ctx.sets.set(set, restarted);
  ctx.notes.push(`subgraphs ${set} stopped during the run (not by the harness) and were restarted`);
  return restarted;
}

// ── gateways ───────────────────────────────────────────────────────────────────────────────────
interface RunningGateway {
  readonly spec: GatewaySpec;
  readonly child: Child;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Request headers per gateway (a verified token for Portico with auth on), minted once. */
const headersOf = new Map<GatewayName, Record<string, string>>();

interface Ports {
  readonly gateway: number;
  readonly memoryProbe: number;
  /** For a gateway's own ops/metrics listener, so it never collides with a developer's. */
  readonly ops: number;
}

async function startGateway(
  spec: GatewaySpec,
  running: RunningSet,
  ports: Ports,
  env: NodeJS.ProcessEnv,
  workDir: string,
  cpu: number | undefined,
  tag: string,
): Promise<RunningGateway> {
  const child = spawnChild({
    name: spec.name,
    nodeArgs: ['--import', 'tsx', '--import', PRELOAD_PATH, ...spec.entry(ROOT)],
    env: {
      ...env,
      BENCH_MEMORY_PORT: String(ports.memoryProbe),
      ...spec.env({
        root: ROOT,
        port: ports.gateway,
        supergraphPath: running.supergraphPath,
        subgraphUrlOverrides: formatUrlOverrides(running.ready.urls),
        subgraphs: Object.keys(running.ready.urls),
        opsPort: ports.ops,
      }),
    },
    cwd: ROOT,
    cpu,
    logPath: join(workDir, `${spec.name}-${tag}.log`),
  });
  child.countLines(EGRESS_MARKER); // start counting before the first line can arrive
  const url = `http://127.0.0.1:${ports.gateway}/graphql`;
  const headers = headersOf.get(spec.name) ?? {};
  const t0 = Date.now();
  try {
    await waitUntil(
      `[${spec.name}] readiness`,
      async () => (await postJson(url, '{"query":"{ __typename }"}', headers)).text.includes('"Query"'),
      GATEWAY_READY_TIMEOUT_MS,
      () => (child.hasExited() ? `exited before it was ready; last output:\n${child.tail()}` : undefined),
    );
  } catch (err) {
    await child.stop();
    throw err;
  }
  progress(`  ${spec.name}: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${child.pid})`);
  return { spec, child, url, headers };
}

async function readMemory(ports: Ports): Promise<MemorySample | undefined> {
  try {
    const m = await getJson<NodeJS.MemoryUsage>(`http://127.0.0.1:${ports.memoryProbe}/?gc=1`);
    const mb = (bytes: number) => bytes / 1024 ** 2;
    return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal) };
  } catch (err) {
    progress(`  memory probe unavailable: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

// ── golden answers ─────────────────────────────────────────────────────────────────────────────
interface Golden {
  readonly source: string;
  readonly answers: readonly unknown[];
}
const golden = new Map<WorkloadId, Golden>();

/** @returns why the gateway's answers are not acceptable, or undefined when they match. */
async function checkGolden(gw: RunningGateway, workload: Workload): Promise<string | undefined> {
  const reference = golden.get(workload.id);
  const answers: unknown[] = [];
  for (const [i, body] of workload.checkBodies.entries()) {
    let res;
    try {
      res = await postJson(gw.url, body, gw.headers);
    } catch (err) {
      return `check request ${i + 1} failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (res.status !== 200) return `check request ${i + 1}: HTTP ${res.status} ${res.text.slice(0, 200)}`;
    let parsed: { data?: unknown; errors?: unknown };
    try {
      parsed = JSON.parse(res.text) as typeof parsed;
    } catch {
      return `check request ${i + 1}: body is not JSON: ${res.text.slice(0, 200)}`;
    }
    if (parsed.errors !== undefined) return `check request ${i + 1}: GraphQL errors ${JSON.stringify(parsed.errors).slice(0, 300)}`;
    if (reference === undefined) {
      const problem = workload.sanity(parsed.data);
      if (problem !== undefined) return `check request ${i + 1}: answer fails the sanity check: ${problem}`;
      answers.push(JSON.parse(canonicalJson(parsed)));
    } else {
      const diff = firstDifference(reference.answers[i], JSON.parse(canonicalJson(parsed)));
      if (diff !== undefined) return `check request ${i + 1} differs from the golden answer (${reference.source}): ${diff}`;
    }
  }
  if (reference === undefined) golden.set(workload.id, { source: `first answer of ${gw.spec.name}, sanity-checked`, answers });
  return undefined;
}

/** Size of the golden answer(s) of a workload, for the progress line. */
function goldenSize(workload: Workload): string {
  const answers = golden.get(workload.id)?.answers ?? [];
  const kb = answers.reduce<number>((n, a) => n + JSON.stringify(a).length, 0) / 1024 / Math.max(1, answers.length);
  return `${answers.length} answer${answers.length === 1 ? '' : 's'}, ${kb.toFixed(1)} KB${answers.length > 1 ? ' on average' : ''}`;
}

// ── the A/B run ────────────────────────────────────────────────────────────────────────────────
function loadFor(gw: RunningGateway, workload: Workload, opts: Options, seconds: number) {
  return runLoad({
    url: gw.url,
    connections: opts.connections,
    durationS: seconds,
    headers: gw.headers,
    ...(workload.bodyGenerator !== undefined ? { nextBody: workload.bodyGenerator() } : { fixedBody: workload.fixedBody ?? '' }),
  });
}

/** The first line of a start error plus the child's own error line, if its output has one. */
function startFailure(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const [first = '', ...rest] = text.split('\n');
  const cause = rest.find((line) => /\b\w*Error\b|portico:/.test(line));
  return cause === undefined ? first : `${first.replace(/; last output:$/, '')}: ${cause.trim()}`;
}

function describe(stats: LoadStats): string {
  const errors = stats.non2xx + stats.socketErrors + stats.graphqlErrors;
  return (
    `${stats.rps.toFixed(0)} req/s, p50 ${stats.p50Ms.toFixed(1)} / p95 ${stats.p95Ms.toFixed(1)} / p99 ${stats.p99Ms.toFixed(1)} ms` +
    (errors > 0 ? `, ${stats.non2xx} non-2xx, ${stats.socketErrors} socket errors, ${stats.graphqlErrors} GraphQL errors` : '')
  );
}

function setsOf(workloads: readonly WorkloadId[]): SubgraphSet[] {
  const sets: SubgraphSet[] = [];
  for (const w of workloads) if (!sets.includes(WORKLOADS[w].set)) sets.push(WORKLOADS[w].set);
  return sets;
}

function etaSeconds(opts: Options, gateways: number): number {
  let perRound = 0;
  for (const set of setsOf(opts.workloads)) {
    const n = opts.workloads.filter((w) => WORKLOADS[w].set === set).length;
    perRound += START_OVERHEAD_S + opts.warmupS + opts.measureS + (n - 1) * (opts.rewarmS + opts.measureS);
  }
  return perRound * gateways * opts.rounds;
}

interface RunContext {
  readonly opts: Options;
  readonly env: NodeJS.ProcessEnv;
  readonly workDir: string;
  readonly gatewayCpu: number | undefined;
  readonly helperCpu: number | undefined;
  readonly ports: Ports;
  readonly sets: Map<SubgraphSet, RunningSet>;
  /** Notes for the results header, added to as the run goes. */
  readonly notes: string[];
}

async function runRounds(ctx: RunContext, gateways: GatewaySpec[], measurements: Measurement[], memory: MemoryRecord[], egress: Map<string, number>) {
  const { opts } = ctx;
  for (let round = 1; round <= opts.rounds; round++) {
    for (const set of setsOf(opts.workloads)) {
      const workloads = opts.workloads.filter((w) => WORKLOADS[w].set === set).map((w) => WORKLOADS[w]);
      for (const spec of gateways) {
        const running = await ensureSubgraphs(ctx, set);
        if (running === undefined) continue;
        progress(`round ${round}/${opts.rounds} · ${set} subgraphs · ${spec.name}`);
        const record = (w: Workload, status: Measurement['status'], message: string | undefined, stats?: LoadStats, cpu?: CpuUse) =>
          measurements.push({ round, gateway: spec.name, workload: w.id, status, message, stats, cpu });
        let gw: RunningGateway | undefined;
        let failure = '';
        // One retry: on a shared machine a start can fail for passing reasons (a colleague's
        // `npm ci` swapping node_modules, a port grabbed between freePort() and listen()).
        for (let attempt = 1; attempt <= 2 && gw === undefined; attempt++) {
          try {
            gw = await startGateway(spec, running, ctx.ports, ctx.env, ctx.workDir, ctx.gatewayCpu, `r${round}-${set}-${attempt}`);
          } catch (err) {
            failure = startFailure(err);
            progress(`  ${spec.name}: did not start (attempt ${attempt}/2): ${failure}`);
            if (attempt === 1) await delay(START_RETRY_DELAY_MS);
          }
        }
        if (gw === undefined) {
          for (const w of workloads) record(w, 'failed', `did not start: ${failure}`);
          continue;
        }
        let afterWarmup: MemorySample | undefined;
        try {
          const accepted: Workload[] = [];
          for (const w of workloads) {
            const problem = await checkGolden(gw, w);
            if (problem === undefined) {
              accepted.push(w);
              progress(`  golden ${w.id}: ok (${goldenSize(w)})`);
            } else {
              progress(`  golden ${w.id}: ABORTED ${spec.name} — ${problem}`);
              record(w, 'aborted', `golden check: ${problem}`);
            }
          }
          for (const [i, w] of accepted.entries()) {
            const warm = i === 0 ? opts.warmupS : opts.rewarmS;
            if (warm > 0) {
              progress(`  ${w.id} ${w.name}: warm-up ${warm} s`);
              await loadFor(gw, w, opts, warm);
            }
            if (i === 0) afterWarmup = await readMemory(ctx.ports);
            progress(`  ${w.id} ${w.name}: measure ${opts.measureS} s`);
            const meter = startCpuMeter(gw.child.pid, [running.child.pid]);
            const stats = await loadFor(gw, w, opts, opts.measureS);
            const cpu = meter();
            if (gw.child.hasExited()) {
              record(w, 'failed', `exited during the run; last output: ${gw.child.tail().split('\n').slice(-3).join(' | ')}`);
              break;
            }
            progress(
              `  ${w.id} ${w.name}: ${describe(stats)} · CPU gateway ${cpu.gatewayPct.toFixed(0)}% (starved ${cpu.gatewayStarvedPct.toFixed(0)}%), subgraphs ` +
                `${cpu.subgraphsPct.toFixed(0)}%, load generator ${cpu.loadGeneratorPct.toFixed(0)}% · load avg ${cpu.loadAverage.toFixed(1)}`,
            );
            for (const sample of stats.errorSamples) progress(`    error sample: ${sample}`);
            record(w, 'ok', undefined, stats, cpu);
          }
          memory.push({ round, gateway: spec.name, set, afterWarmup, afterRun: await readMemory(ctx.ports) });
        } finally {
          egress.set(spec.name, (egress.get(spec.name) ?? 0) + gw.child.countLines(EGRESS_MARKER));
          await gw.child.stop();
        }
      }
    }
  }
}

// ── soak ───────────────────────────────────────────────────────────────────────────────────────
interface SoakPoint {
  readonly requests: number;
  readonly memory: MemorySample | undefined;
  readonly stats: LoadStats | undefined;
}

async function runSoak(ctx: RunContext, spec: GatewaySpec, workload: Workload, total: number): Promise<SoakPoint[]> {
  const running = ctx.sets.get(workload.set);
  if (running === undefined) throw new Error(`no ${workload.set} subgraphs running`);
  const gw = await startGateway(spec, running, ctx.ports, ctx.env, ctx.workDir, ctx.gatewayCpu, 'soak');
  const points: SoakPoint[] = [];
  try {
    const problem = await checkGolden(gw, workload);
    if (problem !== undefined) throw new Error(`[${spec.name}] golden check failed: ${problem}`);
    progress(`  soak: warm-up ${ctx.opts.warmupS} s`);
    await loadFor(gw, workload, ctx.opts, ctx.opts.warmupS);
    points.push({ requests: 0, memory: await readMemory(ctx.ports), stats: undefined });
    const chunk = Math.ceil(total / SOAK_CHECKPOINTS);
    let sent = 0;
    while (sent < total) {
      const amount = Math.min(chunk, total - sent);
      const stats = await runLoad({
        url: gw.url,
        connections: ctx.opts.connections,
        amount,
        headers: gw.headers,
        ...(workload.bodyGenerator !== undefined ? { nextBody: workload.bodyGenerator() } : { fixedBody: workload.fixedBody ?? '' }),
      });
      sent += amount;
      const memory = await readMemory(ctx.ports);
      points.push({ requests: sent, memory, stats });
      progress(`  soak: ${sent}/${total} requests · RSS ${memory?.rssMb.toFixed(0) ?? '?'} MB · heap ${memory?.heapUsedMb.toFixed(1) ?? '?'} MB · ${describe(stats)}`);
      if (gw.child.hasExited()) throw new Error(`[${spec.name}] exited during the soak`);
    }
  } finally {
    await gw.child.stop();
  }
  return points;
}

function soakMarkdown(spec: GatewaySpec, workload: Workload, points: readonly SoakPoint[]): string {
  const lines = [
    `### Soak: ${spec.name}, workload ${workload.id} (${workload.name})`,
    '',
    '| requests after warm-up | RSS MB | heap used MB (after GC) | req/s in chunk | non-2xx | GraphQL errors |',
    '|---:|---:|---:|---:|---:|---:|',
  ];
  for (const p of points) {
    lines.push(
      `| ${p.requests} | ${p.memory?.rssMb.toFixed(1) ?? '–'} | ${p.memory?.heapUsedMb.toFixed(1) ?? '–'} | ` +
        `${p.stats?.rps.toFixed(0) ?? '–'} | ${p.stats?.non2xx ?? '–'} | ${p.stats?.graphqlErrors ?? '–'} |`,
    );
  }
  const first = points[0]?.memory;
  const last = points[points.length - 1]?.memory;
  if (first !== undefined && last !== undefined) {
    lines.push(
      '',
      `Growth over ${points[points.length - 1]?.requests ?? 0} requests: RSS ${(last.rssMb - first.rssMb).toFixed(1)} MB, ` +
        `heap used ${(last.heapUsedMb - first.heapUsedMb).toFixed(1)} MB (both after a full GC).`,
    );
  }
  return lines.join('\n');
}

// ── redis ──────────────────────────────────────────────────────────────────────────────────────
const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

/** Answers PING within `timeoutMs`? */
function redisPing(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => finish(false), timeoutMs);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      done(ok);
    };
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => finish(d.toString('utf8').startsWith('+PONG')));
    socket.once('error', () => finish(false));
  });
}

/**
 * A private redis-server for portico-full's Redis limiter (the issue's "Redis rate limiter with a
 * high limit"), on a free loopback port, pinned to `cpu` (core 0 beside the subgraphs unless
 * BENCH_REDIS_CORE says otherwise); stopped with the other children. Undefined when no
 * redis-server is installed.
 */
async function startPrivateRedis(dir: string, cpu: number | undefined): Promise<string | undefined> {
  if (REDIS_SERVER === undefined) return undefined;
  const port = await freePort();
  // prettier-ignore
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];
  const child = spawnChild({ name: 'redis', command: REDIS_SERVER, nodeArgs: args, env: process.env, cwd: dir, cpu, logPath: join(dir, 'redis.log') });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !child.hasExited()) {
    if (await redisPing(port, 500)) return `redis://127.0.0.1:${port}`;
    await delay(50);
  }
  throw new Error(`redis-server did not answer PING on ${port}: ${child.tail()}`);
}

// ── main ───────────────────────────────────────────────────────────────────────────────────────
async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  installCleanupHandlers();

  const cores = countCores();
  const pinned = cores >= 2;
  let pinNote = pinned ? 'gateways on core 1; load generator and subgraphs on core 0' : `no pinning (nproc = ${cores})`;
  if (pinned) {
    const failure = pinSelf(0);
    if (failure !== undefined) pinNote = `pinning failed (${failure}); gateways still on core 1`;
  }
  const machine = machineInfo(cores);

  if (needsPorticoBuild(opts.gateways)) {
    progress('building Portico (npm run build): the benchmark runs dist/, as the Docker image does');
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }

  const notes: string[] = [];
  const gateways: GatewaySpec[] = [];
  const stampForRedis = new Date().toISOString().replace(/[:.]/g, '-');
  if (process.env['BENCH_REDIS_URL'] === undefined && opts.gateways.some((n) => n.startsWith('portico-full'))) {
    const redisDir = mkdtempSync(join(tmpdir(), `portico-bench-redis-${stampForRedis}-`));
    // BENCH_REDIS_CORE=1 pins it beside the gateway instead: its CPU is then charged to Portico's
    // core, but its answers no longer queue behind the load generator when core 0 is saturated.
    const redisCore = pinned ? Number(process.env['BENCH_REDIS_CORE'] ?? 0) : undefined;
    if (redisCore !== undefined && !(Number.isInteger(redisCore) && redisCore >= 0 && redisCore < cores)) {
      throw new Error(`BENCH_REDIS_CORE must be a core number from 0 to ${cores - 1}, got "${process.env['BENCH_REDIS_CORE']}"`);
    }
    const url = await startPrivateRedis(redisDir, redisCore);
    if (url !== undefined) {
      process.env['BENCH_REDIS_URL'] = url;
      notes.push(`portico-full* rate limiter, stale store and APQ in a private redis-server (${url}, core ${redisCore ?? 'unpinned'})`);
      progress(`redis-server for portico-full*: ${url}`);
    } else {
      notes.push('portico-full* on the in-process limiter: no redis-server found (apt-get install redis-server)');
      progress('no redis-server: portico-full* falls back to its in-process limiter');
    }
  } else if (process.env['BENCH_REDIS_URL'] !== undefined) {
    notes.push(`portico-full* rate limiter, stale store and APQ in Redis at BENCH_REDIS_URL=${process.env['BENCH_REDIS_URL']}`);
  }
  for (const name of opts.soak !== undefined ? (opts.gateways.length === GATEWAY_ORDER.length ? ['portico-full' as const] : opts.gateways.slice(0, 1)) : opts.gateways) {
    const spec = GATEWAYS[name];
    const reason = spec.unavailable(ROOT);
    if (reason === undefined) gateways.push(spec);
    else {
      notes.push(`${name}: ${reason}`);
      progress(`skipping ${name}: ${reason}`);
    }
  }
  if (gateways.length === 0) throw new Error('no gateway to run (see the skip notes above); pick some with --only=');
  for (const spec of gateways) headersOf.set(spec.name, await spec.headers());

  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
  const workDir = mkdtempSync(join(tmpdir(), `portico-bench-${stamp}-`));
  mkdirSync(RESULTS_DIR, { recursive: true });
  writePublicSupergraph();

  const env = { ...commonGatewayEnv(process.env), BENCH_PARENT_PID: String(process.pid) };
  const ports: Ports = { gateway: await freePort(), memoryProbe: await freePort(), ops: await freePort() };
  const ctx: RunContext = {
    opts,
    env,
    workDir,
    gatewayCpu: pinned ? 1 : undefined,
    helperCpu: pinned ? 0 : undefined,
    ports,
    sets: new Map(),
    notes,
  };
  const soakWorkload = WORKLOADS[opts.workloads[0] ?? 'a'];
  const neededSets = opts.soak !== undefined ? [soakWorkload.set] : setsOf(opts.workloads);

  progress(`machine: ${machine.cpu}, nproc ${cores}, ${machine.memoryGb} GB, Node ${machine.node}; ${pinNote}`);
  progress(`logs and rewritten supergraphs: ${workDir}`);
  if (opts.soak === undefined) {
    const eta = etaSeconds(opts, gateways.length);
    progress(
      `plan: ${gateways.map((g) => g.name).join(', ')} × workloads ${opts.workloads.join(',')} × ${opts.rounds} round(s); ` +
        `${opts.connections} connections, warm-up ${opts.warmupS} s (+${opts.rewarmS} s per later workload), measure ${opts.measureS} s` +
        `${opts.latencyMs > 0 ? `, subgraph latency ${opts.latencyMs} ms` : ''}; ETA ~${Math.ceil(eta / 60)} min`,
    );
  }

  try {
    for (const set of neededSets) ctx.sets.set(set, await startSubgraphs(set, opts, env, workDir, ctx.helperCpu));

    const base = join(RESULTS_DIR, opts.soak !== undefined ? `${stamp}-soak` : stamp);
    // Built when written, so notes added during the run are in it.
    const header = (): string[] => [
      `# Benchmark run ${stamp}`,
      '',
      `- machine: ${machine.cpu}, nproc ${cores}, ${machine.memoryGb} GB RAM, Linux ${machine.kernel}, Node ${machine.node}`,
      `- packages: ${Object.entries(machine.packages).map(([p, v]) => `${p} ${v}`).join(', ')}`,
      `- pinning: ${pinNote}`,
      `- load: autocannon, ${opts.connections} connections, no pipelining; warm-up ${opts.warmupS} s ` +
        `(+${opts.rewarmS} s before each later workload in the same process), measure ${opts.measureS} s, ${opts.rounds} round(s), gateways alternating`,
      `- subgraph latency: ${opts.latencyMs} ms`,
      ...(gateways.some((g) => g.name.startsWith('portico')) ? [`- portico: ${porticoEntryNote(ROOT)}`] : []),
      ...notes.map((n) => `- note: ${n}`),
    ];

    if (opts.soak !== undefined) {
      const spec = gateways[0] as GatewaySpec;
      progress(`soak: ${opts.soak} requests to ${spec.name}, workload ${soakWorkload.id}`);
      const points = await runSoak(ctx, spec, soakWorkload, opts.soak);
      const md = [...header(), '', soakMarkdown(spec, soakWorkload, points), ''].join('\n');
      writeFileSync(`${base}.md`, md);
      writeFileSync(`${base}.json`, JSON.stringify({ stamp, machine, options: opts, gateway: spec.name, workload: soakWorkload.id, points: points.map((p) => ({ ...p, stats: statsForJson(p.stats) })) }, null, 2));
      process.stdout.write(`\n${soakMarkdown(spec, soakWorkload, points)}\n\nwrote ${base}.md and .json\n`);
      return;
    }

    const measurements: Measurement[] = [];
    const memory: MemoryRecord[] = [];
    const egress = new Map<string, number>();
    await runRounds(ctx, gateways, measurements, memory, egress);

    const names = gateways.map((g) => g.name);
    const rows = summarize(measurements, names, opts.workloads, (g) => GATEWAYS[g as GatewayName].dedup, BASELINE);
    const label = (id: string) => `${id} ${WORKLOADS[id as WorkloadId].name}`;
    const goldenLines = opts.workloads.map((w) => `- golden ${w}: ${golden.get(w)?.source ?? 'none (no gateway answered acceptably)'}`);
    const egressLine = `- egress beyond loopback blocked by the guard: ${names.map((n) => `${n} ${egress.get(n) ?? 0}`).join(', ')}`;
    const md = [
      ...header(),
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
      ...gateways.map((g) => `- **${g.name}**: ${g.summary}; dedup: ${g.dedup}`),
      '',
    ].join('\n');
    writeFileSync(`${base}.md`, md);
    writeFileSync(
      `${base}.json`,
      JSON.stringify(
        {
          stamp,
          machine,
          pinning: pinNote,
          options: opts,
          notes,
          golden: Object.fromEntries([...golden].map(([w, g]) => [w, g.source])),
          egressBlocked: Object.fromEntries(egress),
          summary: rows,
          measurements: measurements.map((m) => ({ ...m, stats: statsForJson(m.stats) })),
          memory,
        },
        null,
        2,
      ),
    );
    process.stdout.write(`\n${summaryTable(rows, label)}\n\n${memoryTable(memory)}\n\n${goldenLines.join('\n')}\n${egressLine}\n`);
    for (const n of notes) process.stdout.write(`note: ${n}\n`);
    progress(`wrote ${base}.md and .json`);
  } finally {
    shuttingDown = true;
    await stopAllChildren();
  }
}

main().catch(async (err: unknown) => {
  process.stderr.write(`\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await stopAllChildren();
  process.exit(1);
});
