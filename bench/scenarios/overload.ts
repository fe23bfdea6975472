/**
 * `npm run bench:overload` — issue 18 "Fair under overload", benchmark part. One gateway instance
 * (pinned to its own core when there are two): its capacity is measured closed-loop first, then
 * open-loop load at 2× that capacity with 10 % premium / 30 % free / 60 % anonymous traffic hits
 * an instance with shedding off, one with shedding on at the default settings (the adaptive
 * in-flight limit learned from the standing event-loop delay, docs/overload.md) and one with a
 * fixed in-flight limit of 50 set by hand, in one run.
 * Per tier: offered and good answers per second, goodput as a share of the offered load, shed
 * (503) and failed (timeouts, other errors), and the p99 of the good answers.
 * Goal: premium goodput >= 95 % of its offered load while overloaded, with shedding on.
 * The generator keeps at most 256 connections open, as a load balancer would (bench/lib/openLoop.ts).
 *
 * Flags: --capacity=S (default 8) --warmup=S (default 3) --duration=S (default 12) --factor=X (default 2)
 * --rounds=N (default 1; a second round swaps the order).
 */
import { createHash } from 'node:crypto';
import { stopAllProcesses } from '../../devkit/processes.ts';
import { startCpuMeter, type CpuUse } from '../lib/cpu.ts';
import { percentile, runLoad } from '../lib/load.ts';
import { runOpenLoop, type ClassStats, type OpenLoopClass } from '../lib/openLoop.ts';
import { numberArg, PRODUCT_PAGE_BODY as PAGE, report, runScenario, setUp } from './common.ts';

const CAPACITY_S = numberArg('capacity', 8);
const WARMUP_S = numberArg('warmup', 3);
const DURATION_S = numberArg('duration', 12);
const FACTOR = numberArg('factor', 2);
const ROUNDS = numberArg('rounds', 1);

const KEYS = { premium: 'bench-premium-key', free: 'bench-free-key' };
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const CLASSES: OpenLoopClass[] = [
  { name: 'premium', share: 0.1, headers: { 'x-api-key': KEYS.premium } },
  { name: 'free', share: 0.3, headers: { 'x-api-key': KEYS.free } },
  { name: 'anonymous', share: 0.6, headers: {} },
];
type Variant = 'shedding off' | 'shedding on (defaults)' | 'shedding on, in-flight limit';
const VARIANTS: Variant[] = ['shedding off', 'shedding on (defaults)', 'shedding on, in-flight limit'];

/** What the gateway's own overload metrics read during a phase (ops /metrics every 500 ms). */
interface Watch {
  maxDelayMs: number;
  maxStandingMs: number;
  /** Lowest adaptive limit read (0: none learned). */
  minLimit: number;
  maxInFlight: number;
  samples: number;
  shedding: number;
}

function watchGateway(opsUrl: string): () => Promise<Watch> {
  const w: Watch = { maxDelayMs: 0, maxStandingMs: 0, minLimit: 0, maxInFlight: 0, samples: 0, shedding: 0 };
  let stop = false;
  const read = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
  const loop = (async () => {
    while (!stop) {
      try {
        const text = await (await fetch(`${opsUrl}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
        w.samples++;
        w.maxDelayMs = Math.max(w.maxDelayMs, read(text, 'portico_overload_event_loop_delay_seconds') * 1_000);
        w.maxInFlight = Math.max(w.maxInFlight, read(text, 'portico_overload_in_flight_requests'));
        w.maxStandingMs = Math.max(w.maxStandingMs, read(text, 'portico_overload_standing_delay_seconds') * 1_000);
        const limit = read(text, 'portico_overload_adaptive_limit');
        if (limit > 0) w.minLimit = w.minLimit > 0 ? Math.min(w.minLimit, limit) : limit;
        if (read(text, 'portico_overload_shed_tiers') > 0) w.shedding++;
      } catch {
        // A late scrape is itself a reading: skip it.
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return async () => {
    stop = true;
    await loop;
    return w;
  };
}

async function main() {
  const bench = await setUp('overload');
  const { cores, gwCpu } = bench;
  const env = (shedding: boolean, maxInFlight = 0) => ({
    PORTICO_OVERLOAD_SHEDDING: String(shedding),
    PORTICO_OVERLOAD_MAX_IN_FLIGHT: String(maxInFlight),
    PORTICO_API_KEYS: `${sha256(KEYS.premium)}=premium,${sha256(KEYS.free)}=free`,
    // Quotas far above the load: only overload refuses anything here.
    PORTICO_RATE_LIMITS: 'anonymous=86400000000/1d,free=86400000000/1d,premium=86400000000/1d',
  });

  // Capacity: closed loop, 50 connections, shedding off.
  const probe = await bench.startPortico('portico-capacity', env(false));
  await runLoad({ url: probe.url, connections: 50, durationS: WARMUP_S, headers: {}, fixedBody: PAGE });
  const capacityCpu = startCpuMeter(probe.child.pid, []);
  const capacity = await runLoad({ url: probe.url, connections: 50, durationS: CAPACITY_S, headers: {}, fixedBody: PAGE });
  const capCpu = capacityCpu();
  await probe.child.stop();
  const rps = Math.round(capacity.rps * FACTOR);
  process.stderr.write(`capacity ${capacity.rps.toFixed(0)} req/s (p99 ${capacity.p99Ms.toFixed(0)} ms); open loop at ${rps} req/s\n`);

  // In flight at capacity: the closed loop's connections. Anonymous is shed from there, premium from 2×.
  const inFlightLimit = 50;
  const results: { variant: Variant; round: number; stats: ClassStats[]; watch: Watch; cpu: CpuUse }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse();
    for (const variant of order) {
      const gwEnv = variant === 'shedding off' ? env(false) : variant === 'shedding on (defaults)' ? env(true) : env(true, inFlightLimit);
      const gw = await bench.startPortico(`portico-${round}-${VARIANTS.indexOf(variant)}`, gwEnv);
      // Warm-up below capacity (plans cached, JIT), then the overload.
      await runLoad({ url: gw.url, connections: 20, durationS: WARMUP_S, headers: {}, fixedBody: PAGE });
      process.stderr.write(`[round ${round}] ${variant}: ${rps} req/s open loop for ${DURATION_S} s\n`);
      const stopWatch = watchGateway(gw.opsUrl);
      const cpu = startCpuMeter(gw.child.pid, []);
      const stats = await runOpenLoop({ url: gw.url, body: PAGE, rps, durationS: DURATION_S, classes: CLASSES });
      results.push({ variant, round, stats, cpu: cpu(), watch: await stopWatch() });
      await gw.child.stop();
    }
  }
  await stopAllProcesses();

  const rows: string[] = [];
  for (const variant of VARIANTS) {
    for (const cls of CLASSES) {
      const runs = results.filter((r) => r.variant === variant).map((r) => r.stats.find((s) => s.name === cls.name)!);
      const offered = runs.reduce((a, s) => a + s.offered, 0);
      const ok = runs.reduce((a, s) => a + s.ok, 0);
      const shed = runs.reduce((a, s) => a + s.shed, 0);
      const failed = runs.reduce((a, s) => a + s.failed, 0);
      const lat = Float64Array.from(runs.flatMap((s) => [...s.okLatenciesMs])).sort();
      const seconds = DURATION_S * runs.length;
      rows.push(
        `| ${variant} | ${cls.name} | ${(offered / seconds).toFixed(0)} | ${(ok / seconds).toFixed(0)} | ${((ok / offered) * 100).toFixed(1)} % | ${shed} | ${failed} | ${lat.length ? percentile(lat, 50).toFixed(0) : '–'} | ${lat.length ? percentile(lat, 99).toFixed(0) : '–'} |`,
      );
    }
  }
  const out = [
    `Overload benchmark — ${new Date().toISOString()} — ${cores} cores, gateway pinned to CPU ${gwCpu ?? '-'}; capacity ${capacity.rps.toFixed(0)} req/s closed loop (50 connections, p99 ${capacity.p99Ms.toFixed(0)} ms); open loop at ${FACTOR}× = ${rps} req/s for ${DURATION_S} s per variant, ${ROUNDS} round(s), at most 256 connections, 10 % premium / 30 % free / 60 % anonymous product pages; goodput = 200 answers without errors within 10 s`,
    '',
    '| variant | tier | offered req/s | goodput req/s | goodput / offered | shed (503) | failed (timeouts, errors) | p50 ms (good) | p99 ms (good) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `What the gateway read (ops /metrics every 500 ms; in-flight limit variant: PORTICO_OVERLOAD_MAX_IN_FLIGHT=${inFlightLimit}):`,
    '',
    `Capacity phase: gateway CPU ${capCpu.gatewayPct.toFixed(0)} % of a core (runnable but not running ${capCpu.gatewayStarvedPct.toFixed(0)} %), load average ${capCpu.loadAverage.toFixed(1)}.`,
    '',
    '| variant | round | max mean event-loop delay ms | max standing delay ms | lowest adaptive limit | max in flight | share of readings shedding | gateway CPU % of a core | runnable, not running % | load average |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.variant} | ${r.round} | ${r.watch.maxDelayMs.toFixed(0)} | ${r.watch.maxStandingMs.toFixed(0)} | ${r.watch.minLimit > 0 ? r.watch.minLimit.toFixed(0) : '–'} | ${r.watch.maxInFlight} | ${r.watch.samples ? ((r.watch.shedding / r.watch.samples) * 100).toFixed(0) : '–'} % | ${r.cpu.gatewayPct.toFixed(0)} | ${r.cpu.gatewayStarvedPct.toFixed(0)} | ${r.cpu.loadAverage.toFixed(1)} |`,
    ),
  ].join('\n');
  report('overload', out);
}

runScenario(main);
