/**
 * What the scenario benchmarks (degradation, rate limit) share: pinning, the demo subgraphs in
 * their own process, a Portico process on the gateway core, and the markdown row averages.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../../devkit/paths.ts';
import { freePorts } from '../../devkit/ports.ts';
import { spawnTsx, stopAllOnSignals, stopAllProcesses, type ManagedProcess } from '../../devkit/processes.ts';
import { until } from '../../devkit/wait.ts';
import type { LoadStats } from '../lib/load.ts';
import { countCores, pinSelf } from '../lib/pinning.ts';
import { READY_LINE, type SubgraphsReady } from '../lib/protocol.ts';
import { formatUrlOverrides } from '../lib/supergraph.ts';

process.env.APOLLO_TELEMETRY_DISABLED = 'true';

/** `--name=value`'s value, or the default. */
export function stringArg(name: string, def: string): string {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def;
}

/** `--name=value` as a number, or the default. */
export function numberArg(name: string, def: number): number {
  return Number(stringArg(name, String(def)));
}

export interface Bench {
  cores: number;
  gwCpu: number | undefined;
  work: string;
  subgraphUrls: Readonly<Record<string, string>>;
  faultUrls: Readonly<Record<string, string>>;
  /**
   * Starts Portico (production mode, quiet logs, a limit never reached) with extra env.
   * `profile`: write a V8 CPU profile of its whole life into `$BENCH_CPU_PROF_DIR/<name>/` when
   * that is set (summarised by `npm run bench:profile`). `root`: another checkout's Portico
   * (default this one), to compare before / after a change in one run.
   */
  startPortico(name: string, env: Record<string, string>, options?: { profile?: boolean; nodeFlags?: readonly string[]; root?: string }): Promise<{ child: ManagedProcess; url: string; port: number; opsUrl: string }>;
}

/** Pins this process (load generator) to core 0, starts the demo subgraphs there. */
export async function setUp(tag: string): Promise<Bench> {
  stopAllOnSignals();
  const cores = countCores();
  const gwCpu = cores >= 2 ? 1 : undefined;
  const helperCpu = cores >= 2 ? 0 : undefined;
  if (helperCpu !== undefined) pinSelf(helperCpu);
  const work = mkdtempSync(join(tmpdir(), `portico-bench-${tag}-`));
  const subgraphs = spawnTsx({ name: 'subgraphs', args: [join(PROJECT_ROOT, 'bench/subgraphs/main.ts'), 'demo'], cpu: helperCpu, logFile: join(work, 'subgraphs.log') });
  const ready = JSON.parse((await subgraphs.waitForOutput(READY_LINE, 30_000))[1]!) as SubgraphsReady;
  return {
    cores,
    gwCpu,
    work,
    subgraphUrls: ready.urls,
    faultUrls: ready.faultUrls,
    async startPortico(name, env, options) {
      // Probed together, so the two differ.
      const [port, opsPort] = (await freePorts(2)) as [number, number];
      const profDir = options?.profile ? process.env['BENCH_CPU_PROF_DIR'] : undefined;
      const child = spawnTsx({
        name,
        // BENCH_NODE_FLAGS: extra node flags for every Portico (e.g. `--trace-gc`, which NODE_OPTIONS refuses).
        args: [...(options?.nodeFlags ?? []), ...(process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter(Boolean), ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profDir, name)}`] : []), join(options?.root ?? PROJECT_ROOT, 'src/main.ts')],
        env: {
          ...process.env,
          NODE_ENV: 'production',
          PORT: String(port),
          PORTICO_HOST: '127.0.0.1',
          PORTICO_OPS_PORT: String(opsPort),
          PORTICO_SUBGRAPH_URLS: formatUrlOverrides(ready.urls),
          // Far above what 50 connections can send: every request is decided, none refused.
          PORTICO_RATE_LIMITS: 'anonymous=86400000000/1d',
          PORTICO_LOG_LEVEL: 'warn',
          // A profile is written on exit: no drain pause that would outlast the stop's grace.
          ...(profDir ? { PORTICO_DRAIN_DELAY_MS: '0' } : {}),
          ...env,
        },
        cpu: gwCpu,
        logFile: join(work, `${name}.log`),
      });
      await until(`${name} ready`, async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok, {
        timeoutMs: 60_000,
        intervalMs: 100,
        abortIf: () => (child.running() ? undefined : child.output().slice(-2_000)),
      });
      return { child, url: `http://127.0.0.1:${port}/graphql`, port, opsUrl: `http://127.0.0.1:${opsPort}` };
    },
  };
}

/** Averages of several rounds of one row. */
export function averaged(runs: readonly LoadStats[]) {
  const avg = (f: (x: LoadStats) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
  const sum = (f: (x: LoadStats) => number) => runs.reduce((a, r) => a + f(r), 0);
  return { rps: avg((r) => r.rps), p50: avg((r) => r.p50Ms), p99: avg((r) => r.p99Ms), non2xx: sum((r) => r.non2xx), errors: sum((r) => r.graphqlErrors), socket: sum((r) => r.socketErrors) };
}

export const PRODUCT_PAGE_BODY = JSON.stringify({
  query: '{ products(first: 20) { id name price { amount currency } inventory { inStock quantity } reviews(first: 3) { id rating } averageRating } }',
});

/** Prints a scenario's table and writes it to bench/results/<name>-<time>.md (git-ignored). */
export function report(name: string, markdown: string): void {
  process.stdout.write(`${markdown}\n`);
  const dir = join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.md`), `${markdown}\n`);
}

/** Runs a scenario's `main`; on failure prints why, stops every child and exits 1. */
export function runScenario(main: () => Promise<void>): void {
  main().catch(async (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    await stopAllProcesses();
    process.exit(1);
  });
}
