/** The subgraph sets of a run, each in its own child process, and the supergraph rewritten to them. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../devkit/paths.ts';
import { describeExit, spawnTsx } from '../../devkit/processes.ts';
import { postJson } from '../lib/http.ts';
import { READY_LINE, type SubgraphsReady } from '../lib/protocol.ts';
import { forEveryGateway, withSubgraphUrls } from '../lib/supergraph.ts';
import { PUBLIC_SUPERGRAPH_PATH } from '../public/compose.ts';
import type { SubgraphSet } from '../workloads.ts';
import type { RunContext, RunningSet } from './context.ts';
import { progress } from './progress.ts';

const DEMO_SUPERGRAPH_PATH = join(PROJECT_ROOT, 'schemas', 'supergraph.graphql');
const SUBGRAPHS_READY_TIMEOUT_MS = 60_000;

export async function startSubgraphs(ctx: RunContext, set: SubgraphSet): Promise<RunningSet> {
  const { latencyMs } = ctx.opts;
  const child = spawnTsx({
    name: `subgraphs-${set}`,
    args: [join(PROJECT_ROOT, 'bench', 'subgraphs', 'main.ts'), set],
    env: { ...ctx.env, BENCH_SUBGRAPH_DELAY_MS: String(latencyMs) },
    cpu: ctx.helperCpu,
    logFile: join(ctx.workDir, `subgraphs-${set}.log`),
  });
  const [, json] = await child.waitForOutput(READY_LINE, SUBGRAPHS_READY_TIMEOUT_MS);
  const ready = JSON.parse(json!) as SubgraphsReady;
  if (set === 'demo' && latencyMs > 0) {
    // The mocks' shared fault switch; the public subgraphs got BENCH_SUBGRAPH_DELAY_MS instead.
    for (const [name, url] of Object.entries(ready.faultUrls)) {
      const res = await postJson(url, JSON.stringify({ latencyMs }));
      if (res.status !== 200 || (JSON.parse(res.text) as { latencyMs?: number }).latencyMs !== latencyMs) {
        throw new Error(`[${name}] mock refused latencyMs=${latencyMs}: HTTP ${res.status} ${res.text}`);
      }
    }
  }
  const source = set === 'demo' ? DEMO_SUPERGRAPH_PATH : PUBLIC_SUPERGRAPH_PATH;
  const supergraphPath = join(ctx.workDir, `supergraph-${set}.graphql`);
  writeFileSync(supergraphPath, forEveryGateway(withSubgraphUrls(readFileSync(source, 'utf8'), ready.urls)));
  progress(`subgraphs ${set}: ${Object.entries(ready.urls).map(([n, u]) => `${n}=${u}`).join(' ')}${latencyMs > 0 ? ` (+${latencyMs} ms)` : ''}`);
  void child.exited.then((status) => {
    if (!ctx.stopping) progress(`subgraphs ${set} (pid ${child.pid}) exited unexpectedly: ${describeExit(status)}`);
  });
  return { set, child, ready, supergraphPath };
}

/**
 * The running subgraphs of a set, restarted (on new ports, with a new supergraph file) when
 * something outside the harness stopped them, so one lost process does not void a whole run.
 */
export async function ensureSubgraphs(ctx: RunContext, set: SubgraphSet): Promise<RunningSet | undefined> {
  const running = ctx.sets.get(set);
  if (running === undefined || running.child.running()) return running;
  progress(`subgraphs ${set}: restarting`);
  const restarted = await startSubgraphs(ctx, set);
  ctx.sets.set(set, restarted);
  ctx.notes.push(`subgraphs ${set} stopped during the run (not by the harness) and were restarted`);
  return restarted;
}
