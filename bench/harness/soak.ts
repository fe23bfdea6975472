/** `--soak=N`: memory growth of one gateway over N requests, read after a full GC at checkpoints. */
import { describeLoad, runLoad, type LoadStats } from '../lib/load.ts';
import type { MemorySample } from '../lib/report.ts';
import type { GatewaySpec } from '../gateways/index.ts';
import type { Workload } from '../workloads.ts';
import type { RunContext } from './context.ts';
import { loadFor, readMemory, startGateway } from './gateway.ts';
import { progress } from './progress.ts';

/** Soak checkpoints: memory is read this many times over the N requests. */
const SOAK_CHECKPOINTS = 10;

export interface SoakPoint {
  readonly requests: number;
  readonly memory: MemorySample | undefined;
  readonly stats: LoadStats | undefined;
}

export async function runSoak(ctx: RunContext, spec: GatewaySpec, workload: Workload, total: number): Promise<SoakPoint[]> {
  const running = ctx.sets.get(workload.set);
  if (running === undefined) throw new Error(`no ${workload.set} subgraphs running`);
  const gw = await startGateway(ctx, spec, running, 'soak');
  const points: SoakPoint[] = [];
  try {
    const problem = await ctx.golden.check({ name: spec.name, url: gw.url, headers: gw.headers }, workload);
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
      progress(`  soak: ${sent}/${total} requests · RSS ${memory?.rssMb.toFixed(0) ?? '?'} MB · heap ${memory?.heapUsedMb.toFixed(1) ?? '?'} MB · ${describeLoad(stats)}`);
      if (!gw.child.running()) throw new Error(`[${spec.name}] exited during the soak`);
    }
  } finally {
    await gw.child.stop();
  }
  return points;
}

export function soakMarkdown(spec: GatewaySpec, workload: Workload, points: readonly SoakPoint[]): string {
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
