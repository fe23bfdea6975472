/** One gateway under test: started fresh (pinned, with the preload), loaded, its memory read. */
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../devkit/paths.ts';
import { spawnProcess } from '../../devkit/processes.ts';
import { until } from '../../devkit/wait.ts';
import type { GatewaySpec } from '../gateways/index.ts';
import { getJson, postJson } from '../lib/http.ts';
import { runLoad } from '../lib/load.ts';
import { EGRESS_MARKER } from '../lib/protocol.ts';
import type { MemorySample } from '../lib/report.ts';
import { formatUrlOverrides } from '../lib/supergraph.ts';
import type { Workload } from '../workloads.ts';
import type { Ports, RunContext, RunningGateway, RunningSet } from './context.ts';
import type { Options } from './options.ts';
import { progress } from './progress.ts';

const PRELOAD_PATH = join(PROJECT_ROOT, 'bench', 'gateways', 'preload.ts');
/** Startup budget of one gateway, ms: tsx compiles Portico on a shared, noisy 2-core machine. */
const GATEWAY_READY_TIMEOUT_MS = 90_000;
/** Readiness is polled: a gateway under test has no ready line common to all of them. */
const READY_POLL_MS = 100;

export async function startGateway(ctx: RunContext, spec: GatewaySpec, running: RunningSet, tag: string): Promise<RunningGateway> {
  const { ports } = ctx;
  const child = spawnProcess({
    name: spec.name,
    command: process.execPath,
    args: ['--import', 'tsx', '--import', PRELOAD_PATH, ...spec.entry(PROJECT_ROOT)],
    env: {
      ...ctx.env,
      BENCH_MEMORY_PORT: String(ports.memoryProbe),
      ...spec.env({
        root: PROJECT_ROOT,
        port: ports.gateway,
        supergraphPath: running.supergraphPath,
        subgraphUrlOverrides: formatUrlOverrides(running.ready.urls),
        subgraphs: Object.keys(running.ready.urls),
        opsPort: ports.ops,
      }),
    },
    cpu: ctx.gatewayCpu,
    logFile: join(ctx.workDir, `${spec.name}-${tag}.log`),
  });
  let blocked = 0;
  child.onLine((line) => void (line.includes(EGRESS_MARKER) && blocked++)); // before the first line can arrive
  const url = `http://127.0.0.1:${ports.gateway}/graphql`;
  const headers = ctx.headers.get(spec.name) ?? {};
  const t0 = Date.now();
  try {
    await until(`[${spec.name}] readiness`, async () => (await postJson(url, '{"query":"{ __typename }"}', headers)).text.includes('"Query"'), {
      timeoutMs: GATEWAY_READY_TIMEOUT_MS,
      intervalMs: READY_POLL_MS,
      abortIf: () => (child.running() ? undefined : `exited before it was ready; last output:\n${child.output().slice(-2_000)}`),
    });
  } catch (err) {
    await child.stop();
    throw err;
  }
  const problem = spec.verify?.(child.pid, child.output());
  if (problem !== undefined) {
    await child.stop();
    throw new Error(`[${spec.name}] not what the row claims: ${problem}`);
  }
  const verified = `${spec.name}: verified in the running process (${spec.name === 'hive-gateway-rust-planner' ? "the Rust planner's native addon is mapped, no fallback warning" : 'verify() passed'})`;
  if (spec.verify && !ctx.notes.includes(verified)) ctx.notes.push(verified);
  progress(`  ${spec.name}: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${child.pid})${spec.verify ? ', verified' : ''}`);
  return { spec, child, url, headers, egressBlocked: () => blocked };
}

export async function readMemory(ports: Ports): Promise<MemorySample | undefined> {
  try {
    const m = await getJson<NodeJS.MemoryUsage>(`http://127.0.0.1:${ports.memoryProbe}/?gc=1`);
    const mb = (bytes: number) => bytes / 1024 ** 2;
    return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal) };
  } catch (err) {
    progress(`  memory probe unavailable: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/** `seconds` of a workload's load against a gateway. */
export function loadFor(gw: RunningGateway, workload: Workload, opts: Options, seconds: number) {
  return runLoad({
    url: gw.url,
    connections: opts.connections,
    durationS: seconds,
    headers: gw.headers,
    ...(workload.bodyGenerator !== undefined ? { nextBody: workload.bodyGenerator() } : { fixedBody: workload.fixedBody ?? '' }),
  });
}
