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
 * bench/results/<timestamp>.{md,json} (git-ignored; docs/benchmarks.md keeps the summaries).
 *
 * This file is the order of a run; each step is a module of ./harness/ (options, subgraphs,
 * gateway, golden check, rounds, soak, Redis, results).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../devkit/paths.ts';
import { freePorts } from '../devkit/ports.ts';
import { stopAllOnSignals, stopAllProcesses } from '../devkit/processes.ts';
import { commonGatewayEnv, GATEWAY_ORDER, GATEWAYS, needsPorticoBuild, type GatewaySpec } from './gateways/index.ts';
import { countCores, pinSelf } from './lib/pinning.ts';
import { writePublicSupergraph } from './public/compose.ts';
import { WORKLOADS } from './workloads.ts';
import type { RunContext } from './harness/context.ts';
import { createGoldenBook } from './harness/goldenCheck.ts';
import { machineInfo } from './harness/machine.ts';
import { parseOptions } from './harness/options.ts';
import { progress } from './harness/progress.ts';
import { provideRedis } from './harness/redis.ts';
import { writeRunResults, writeSoakResults, type RunHeader } from './harness/results.ts';
import { etaSeconds, runRounds, setsOf } from './harness/rounds.ts';
import { runSoak } from './harness/soak.ts';
import { startSubgraphs } from './harness/subgraphs.ts';

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  stopAllOnSignals();

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
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  }

  const notes: string[] = await provideRedis(opts.gateways, pinned, cores);
  const gateways: GatewaySpec[] = [];
  for (const name of opts.soak !== undefined ? (opts.gateways.length === GATEWAY_ORDER.length ? ['portico-full' as const] : opts.gateways.slice(0, 1)) : opts.gateways) {
    const spec = GATEWAYS[name];
    const reason = spec.unavailable(PROJECT_ROOT);
    if (reason === undefined) gateways.push(spec);
    else {
      notes.push(`${name}: ${reason}`);
      progress(`skipping ${name}: ${reason}`);
    }
  }
  if (gateways.length === 0) throw new Error('no gateway to run (see the skip notes above); pick some with --only=');

  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
  const workDir = mkdtempSync(join(tmpdir(), `portico-bench-${stamp}-`));
  writePublicSupergraph();

  const [gatewayPort, memoryProbePort, opsPort] = (await freePorts(3)) as [number, number, number];
  const ctx: RunContext = {
    opts,
    env: { ...commonGatewayEnv(process.env), BENCH_PARENT_PID: String(process.pid) },
    workDir,
    gatewayCpu: pinned ? 1 : undefined,
    helperCpu: pinned ? 0 : undefined,
    ports: { gateway: gatewayPort, memoryProbe: memoryProbePort, ops: opsPort },
    sets: new Map(),
    notes,
    headers: new Map(),
    golden: createGoldenBook(),
    stopping: false,
  };
  for (const spec of gateways) ctx.headers.set(spec.name, await spec.headers());
  const header: RunHeader = { stamp, machine, pinNote, gateways };
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
    for (const set of neededSets) ctx.sets.set(set, await startSubgraphs(ctx, set));
    if (opts.soak !== undefined) {
      const spec = gateways[0] as GatewaySpec;
      progress(`soak: ${opts.soak} requests to ${spec.name}, workload ${soakWorkload.id}`);
      writeSoakResults(ctx, header, spec, soakWorkload, await runSoak(ctx, spec, soakWorkload, opts.soak));
      return;
    }
    writeRunResults(ctx, header, await runRounds(ctx, gateways));
  } finally {
    ctx.stopping = true;
    await stopAllProcesses();
  }
}

main().catch(async (err: unknown) => {
  process.stderr.write(`\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await stopAllProcesses();
  process.exit(1);
});
