/**
 * `npm run bench:profile -- <dir or .cpuprofile>…` — where a gateway's CPU time goes, from V8 CPU
 * profiles (`node --cpu-prof`; `BENCH_CPU_PROF_DIR` makes the bench write them). Prints self time
 * by area (which package or Portico folder the code belongs to) and the heaviest functions, as
 * the Markdown docs/benchmarks.md keeps.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface CpuProfile {
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

function files(args: readonly string[]): string[] {
  return args.flatMap((a) => (statSync(a).isDirectory() ? readdirSync(a).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(a, f)) : [a]));
}

function main(): void {
  const paths = files(process.argv.slice(2));
  if (paths.length === 0) throw new Error('usage: npm run bench:profile -- <dir or .cpuprofile>…');
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const path of paths) {
    const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const node = nodes.get(id);
      const us = profile.timeDeltas[i] ?? 0;
      if (!node) return;
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
    `${paths.length} profile(s), ${(total / 1e6).toFixed(1)} s of CPU samples (idle ${(idle / 1e6).toFixed(1)} s left out)`,
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
