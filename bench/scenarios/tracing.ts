/**
 * `npm run bench:tracing` — issue 19, tracing overhead. In one run, alternating A B B A:
 * product-page throughput and p50/p99 with tracing off, and with tracing on at 10 % sampling
 * (PORTICO_OTEL_SAMPLE_RATIO=0.1, degraded/failed kept — none here) exporting over OTLP/HTTP to
 * a local receiver in this process (it reads and drops the batches, counting spans).
 * Goal: ≤ 5 % throughput cost.
 *
 * Flags: --warmup=S (default 5) --duration=S (default 10) --rounds=N (default 2),
 * --ratios=R,R… (default 0.1: the variants after "off"; 0 and 1 split the cost of the unsampled
 * path from that of sampled requests and their export), --simultaneous (all variants run at the
 * same time, sharing the gateway core, instead of one after the other: on a machine others are
 * using, both then see the same neighbours, and CPU per request compares within each round),
 * --baseline=<checkout> (one more variant: that checkout's Portico, at the first ratio),
 * --pages=identical|varied (default identical: one product page; varied: workload c's distinct
 * pages, bench/workloads.ts. Identical pages under 50 connections share most subgraph calls
 * (dedup), and how many depends on timing, so CPU per request moves with latency; varied pages
 * send every fetch, and the figure is steadier), --rate=N (each gateway offered N requests/s
 * instead of as many as 50 connections can send: CPU per request depends on the load level, since
 * a busy event loop does more per turn, so variants compared at one fixed rate below saturation
 * compare their own cost, not how busy each happened to be).
 * `BENCH_CPU_PROF_DIR=<dir>`: each gateway writes a V8 CPU profile into `<dir>/off/` and
 * `<dir>/on-<ratio>/`, for `npm run bench:profile -- --last-s=<duration> <dir>/on-0.1` (profiling
 * costs CPU: figures of such a run are not comparable with an unprofiled one).
 * `BENCH_NODE_FLAGS=--trace-gc`: the gateways log V8's GC lines (in the run's log directory).
 */
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { stopAllProcesses } from '../../devkit/processes.ts';
import { processCpuSeconds } from '../lib/cpu.ts';
import { runLoad, type LoadStats } from '../lib/load.ts';
import { PORTICO_NODE_FLAGS } from '../../src/runtime/nodeFlags.ts';
import { variedBodies } from '../workloads.ts';
import { averaged, numberArg, stringArg, PRODUCT_PAGE_BODY as PAGE, runScenario, setUp, report } from './common.ts';

const WARMUP_S = numberArg('warmup', 5);
const DURATION_S = numberArg('duration', 10);
const ROUNDS = numberArg('rounds', 2);
const PROFILE_DIR = process.env['BENCH_CPU_PROF_DIR'];
/** `--simultaneous`: every variant's gateway at once on the gateway core, each loaded by its own connections. */
const SIMULTANEOUS = process.argv.includes('--simultaneous');
const PAGES = stringArg('pages', 'identical');
const RATE = numberArg('rate', 0);
if (PAGES !== 'identical' && PAGES !== 'varied') throw new Error(`--pages must be identical or varied, not ${PAGES}`);

/**
 * `--ratios=0,0.1,1`: the variants measured after "tracing off" (default 0.1 only). `off`: tracing
 * off a second time (an A/A check of the bench itself); `0.1-nokeep`: degraded and failed
 * requests not kept (PORTICO_OTEL_KEEP_FAILED=false), so unsampled requests note nothing.
 */
const TOKENS = stringArg('ratios', '0.1').split(',');
type Variant = string;
interface Spec {
  readonly on: boolean;
  readonly ratio: number;
  readonly keepFailed: boolean;
  /** Another checkout's Portico. */
  readonly root?: string;
}
const specs = new Map<Variant, Spec>([['tracing off', { on: false, ratio: 0.1, keepFailed: true }]]);
for (const t of TOKENS) {
  const ratio = Number.parseFloat(t);
  if (t === 'off') specs.set('tracing off, again', { on: false, ratio: 0.1, keepFailed: true });
  else specs.set(`tracing on, ${+(ratio * 100).toFixed(1)} % sampled${t.endsWith('-nokeep') ? ', failures not kept' : ''}`, { on: true, ratio, keepFailed: !t.endsWith('-nokeep') });
}
/** `--baseline=<checkout>` (repeatable): one more variant each, that checkout's Portico at the first ratio (before / after a change, in one run). */
for (const a of process.argv.filter((x) => x.startsWith('--baseline='))) {
  const root = a.slice('--baseline='.length);
  const first = [...specs.values()].find((x) => x.on) ?? { on: true, ratio: 0.1, keepFailed: true };
  specs.set(`tracing on, ${+(first.ratio * 100).toFixed(1)} % sampled, ${root}`, { ...first, root });
}
const VARIANTS: Variant[] = [...specs.keys()];

async function main() {
  let spans = 0;
  let exports = 0;
  const receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      exports++;
      spans += (body.match(/"spanId"/g) ?? []).length;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const otlp = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  const bench = await setUp('trace');
  const { cores, gwCpu } = bench;
  const results = new Map<Variant, LoadStats[]>();
  /** Gateway CPU per request, ms, per phase: the figure a busy shared machine distorts least. */
  const cpuPerRequest = new Map<Variant, number[]>();
  const phases: Phase[] = [];
  const start = async (round: number, v: Variant) => {
    const { on, ratio, keepFailed, root } = specs.get(v)!;
    const gw = await bench.startPortico(
      `portico-${round}-${VARIANTS.indexOf(v)}`,
      {
        PORTICO_OTEL_ENABLED: on ? 'true' : 'false',
        PORTICO_OTEL_SAMPLE_RATIO: String(ratio),
        PORTICO_OTEL_KEEP_FAILED: String(keepFailed),
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
        // No load balancer to tell: exit at once, so the profile is written before the SIGKILL.
        PORTICO_DRAIN_DELAY_MS: '0',
      },
      // As shipped (PORTICO_NODE_FLAGS: the young generation the image and `npm start` use). With
      // V8's default semi-spaces each request's objects outlive a scavenge or two and are promoted,
      // and how far the old generation grows before it is collected varies from process to process:
      // the same gateway then measured 0.72 to 1.4 ms CPU per request from one phase to the next.
      { nodeFlags: [...PORTICO_NODE_FLAGS, ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${resolve(PROFILE_DIR, on ? `on-${ratio}${keepFailed ? '' : '-nokeep'}${root ? '-baseline' : ''}` : 'off')}`] : [])], root },
    );
    return { v, ...gw };
  };
  /** Loads these gateways at once (each its own 50 connections): warm-up, then the measured phase. */
  const measure = async (round: number, gws: Awaited<ReturnType<typeof start>>[]) => {
    process.stderr.write(`[round ${round}] ${gws.map((g) => g.v).join(' + ')}: warm-up ${WARMUP_S} s, measure ${DURATION_S} s\n`);
    const load = (url: string, durationS: number) => {
      const common = { url, connections: 50, durationS, headers: { 'content-type': 'application/json' }, ...(RATE > 0 && { rate: RATE }) };
      if (PAGES === 'identical') return runLoad({ ...common, fixedBody: PAGE });
      const bodies = variedBodies();
      let i = 0;
      return runLoad({ ...common, nextBody: () => bodies[i++ % bodies.length]! });
    };
    await Promise.all(gws.map((g) => load(g.url, WARMUP_S)));
    const before = await Promise.all(gws.map(async (g) => ({ cpu: processCpuSeconds(g.child.pid), calls: await subgraphCalls(g.opsUrl) })));
    const stats = await Promise.all(gws.map((g) => load(g.url, DURATION_S)));
    for (const [i, g] of gws.entries()) {
      const s = stats[i]!;
      const cpuMs = ((processCpuSeconds(g.child.pid) - before[i]!.cpu) * 1_000) / Math.max(1, s.responses);
      const calls = await subgraphCalls(g.opsUrl);
      const perRequest = (n: number) => n / Math.max(1, s.responses);
      const c0 = before[i]!.calls;
      phases.push({ round, v: g.v, rps: s.rps, cpuMs, sent: perRequest(calls.sent - c0.sent), shared: perRequest(calls.shared - c0.shared), hits: perRequest(calls.hits - c0.hits) });
      results.set(g.v, [...(results.get(g.v) ?? []), s]);
      cpuPerRequest.set(g.v, [...(cpuPerRequest.get(g.v) ?? []), cpuMs]);
    }
    await Promise.all(gws.map((g) => g.child.stop()));
  };
  for (let round = 1; round <= ROUNDS; round++) {
    if (SIMULTANEOUS) {
      // Started (and loaded) in a rotating order: no variant always goes first or last.
      const gws = [];
      for (let i = 0; i < VARIANTS.length; i++) gws.push(await start(round, VARIANTS[(i + round - 1) % VARIANTS.length]!));
      await measure(round, gws);
    } else {
      // A B, then B A: whatever drifts over a run (the load generator, the neighbours) or favours
      // the first or second slot of a round weighs on every variant alike.
      for (const v of round % 2 === 0 ? [...VARIANTS].reverse() : VARIANTS) await measure(round, [await start(round, v)]);
    }
  }
  await stopAllProcesses();
  receiver.close();

  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rows = VARIANTS.map((v) => ({ v, ...averaged(results.get(v)!), cpu: mean(cpuPerRequest.get(v)!) }));
  const off = rows[0]!;
  const out = [
    `Tracing benchmark — ${new Date().toISOString()} — ${cores} cores, gateway pinned to CPU ${gwCpu ?? '-'}, 50 connections per gateway${RATE > 0 ? ` offered ${RATE} req/s each` : ''}, ${WARMUP_S} s warm-up + ${DURATION_S} s per phase, ${ROUNDS} rounds (${SIMULTANEOUS ? 'variants at the same time' : 'variants one after the other'}), ${PAGES} product pages; OTLP receiver got ${spans} spans in ${exports} exports`,
    '',
    '| variant | req/s | vs tracing off | gateway CPU ms / request | vs tracing off | p50 ms | p99 ms | non-2xx | socket errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.v} | ${r.rps.toFixed(0)} | ${((r.rps / off.rps - 1) * 100).toFixed(1)} % | ${r.cpu.toFixed(3)} | ${((r.cpu / off.cpu - 1) * 100).toFixed(1)} % | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.non2xx} | ${r.socket} |`),
    '',
    'Per phase: subgraph calls sent, dedup shares and cache hits per client request',
    '',
    '| round | variant | req/s | throughput vs the round\'s off | CPU ms / request | calls sent / req | dedup shares / req | cache hits / req |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
    ...phases.map((p) => {
      const base = phases.find((q) => q.round === p.round && q.v === 'tracing off')!;
      return `| ${p.round} | ${p.v} | ${p.rps.toFixed(0)} | ${((p.rps / base.rps - 1) * 100).toFixed(1)} % | ${p.cpuMs.toFixed(3)} | ${p.sent.toFixed(3)} | ${p.shared.toFixed(3)} | ${p.hits.toFixed(3)} |`;
    }),
  ].join('\n');
  report('tracing', out);
}

interface Phase {
  readonly round: number;
  readonly v: Variant;
  readonly rps: number;
  readonly cpuMs: number;
  /** Per client request: subgraph calls sent, fetches that shared one in flight, cache hits. */
  readonly sent: number;
  readonly shared: number;
  readonly hits: number;
}

/**
 * Subgraph traffic so far, from the gateway's own metrics: fetches that reached a subgraph
 * (all fetches minus the dedup followers), followers, and entity cache hits. Tracing must leave
 * all three as they are with it off: a trace header in a dedup or cache key would show here.
 */
async function subgraphCalls(opsUrl: string): Promise<{ sent: number; shared: number; hits: number }> {
  const text = await (await fetch(`${opsUrl}/metrics`)).text();
  const sum = (re: RegExp) => text.split('\n').filter((l) => re.test(l)).reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  const fetches = sum(/^portico_subgraph_requests_total\{/);
  const shared = sum(/^portico_subgraph_dedup_total\{/);
  return { sent: fetches - shared, shared, hits: sum(/^portico_cache_lookups_total\{.*result="hit"/) };
}

runScenario(main);
