/**
 * `npm run bench:profile -- [--last-s=N] <dir or .cpuprofile>…` — where a gateway's CPU time goes,
 * from V8 CPU profiles (`node --cpu-prof`; `BENCH_CPU_PROF_DIR` makes the bench write them).
 * Prints self time by area (which package or Portico folder the code belongs to) and the heaviest
 * functions, as the Markdown docs/benchmarks.md keeps. `--last-s=N` counts only the last N
 * seconds before the process's last busy sample: the measurement, not start-up and warm-up (the
 * gateway is stopped right after its last measurement).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly startTime: number;
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** The area a frame's code belongs to: a package, a Portico folder, Node itself, or V8's own work. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'V8: garbage collection';
    if (functionName === '(idle)' || functionName === '(program)') return `V8: ${functionName}`;
    return 'V8/native (builtins, JSON, regexp)';
  }
  if (url.startsWith('node:')) return 'Node core (http, net, streams, timers)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const src = /\/src\/([^/]+)\//.exec(url);
  if (src) return `portico src/${src[1]}/`;
  return 'other';
}

/**
 * Main-thread profiles only (`CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile`, thread 0): the
 * other threads are loaders (tsx's module hooks) that work at start-up, not per request.
 */
function files(args: readonly string[]): string[] {
  return args.flatMap((a) =>
    statSync(a).isDirectory()
      ? readdirSync(a)
          .filter((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f))
          .map((f) => join(a, f))
      : [a],
  );
}

function main(): void {
  const args = process.argv.slice(2);
  const lastArg = args.find((a) => a.startsWith('--last-s='));
  const lastUs = lastArg === undefined ? Number.POSITIVE_INFINITY : Number(lastArg.slice('--last-s='.length)) * 1e6;
  if (!(lastUs > 0)) throw new Error('--last-s must be a positive number of seconds');
  const paths = files(args.filter((a) => !a.startsWith('--')));
  if (paths.length === 0) throw new Error('usage: npm run bench:profile -- [--last-s=N] <dir or .cpuprofile>…');
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const path of paths) {
    const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    // Each sample's time since the profile started, and the last one that was not idle.
    const at: number[] = [];
    let t = 0;
    let lastBusy = 0;
    profile.samples.forEach((id, i) => {
      t += profile.timeDeltas[i] ?? 0;
      at.push(t);
      if (nodes.get(id)?.callFrame.functionName !== '(idle)') lastBusy = t;
    });
    profile.samples.forEach((id, i) => {
      const node = nodes.get(id);
      const us = profile.timeDeltas[i] ?? 0;
      if (!node || at[i]! < lastBusy - lastUs || at[i]! > lastBusy) return;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === '(idle)') {
        idle += us;
        return;
      }
      total += us;
      const area = areaOf(url, functionName);
      byArea.set(area, (byArea.get(area) ?? 0) + us);
      const where = url === '' ? '' : ` ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|dist\/src)\//, 'src/')}:${lineNumber + 1}`;
      const key = `${functionName || '(anonymous)'}${where}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    });
  }
  const pct = (us: number) => ((100 * us) / total).toFixed(1);
  const lines = [
    `${paths.length} profile(s), ${(total / 1e6).toFixed(1)} s of CPU samples (idle ${(idle / 1e6).toFixed(1)} s left out)${lastArg ? `, last ${lastUs / 1e6} s of each` : ''}`,
    '',
    '| area | self time % |',
    '|---|---:|',
    ...[...byArea.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([k, v]) => `| ${k} | ${pct(v)} |`),
    '',
    '| function (self time) | % |',
    '|---|---:|',
    ...[...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `| \`${k.replace(/\|/g, '\\|')}\` | ${pct(v)} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
