/**
 * `npm run bench:cache` — issue 17, benchmark part. Varied product pages with a realistic reuse
 * pattern: each page is 5 products starting at a position drawn from a Zipf distribution over a
 * catalogue of 10,000 products (the mocks serve that many for this benchmark), asked as one
 * operation with variables (one document, one plan). In one run, alternating: Portico with the
 * cache off and on (default settings: L1 only), the first cache-on phase with a warm process but
 * a cold cache (everything invalidated after its warm-up); then the same with pricing down
 * (refused), where the cache serves what it holds. Subgraph calls per page are read from the
 * mocks' own counters; the entity hit ratio of each cache-on phase from the gateway's
 * `portico_cache_lookups_total` and `portico_cache_responses_total` (a page answered whole hit
 * all its 15 entities). Closed-loop load drives the faster variant harder, so the cold-cache p99
 * is also compared at one offered load: cache off and a cold cache, each at 70 % of the
 * throughput cache off reached.
 * Goals: >= 3x throughput and >= 80 % fewer subgraph calls at a ~90 % entity hit ratio; p99 no
 * worse when cold.
 *
 * Why s = 1.15: with pages of 5 neighbouring products, how much of the catalogue a run touches
 * hardly depends on the exponent; what sets the warm hit ratio is the L1 (10,000 entries by
 * default, about 3 per product: price, stock, reviews) holding the popular part. Simulated
 * steady state: s = 1.0 → 82 %, 1.1 → 89 %, 1.15 → 91 %, 1.2 → 93 %, whatever the run length.
 *
 * Flags: --warmup=S (default 3) --duration=S (default 8) --rounds=N (default 1) --products=N
 * (catalogue size and Zipf support, default 10,000) --zipf=S (exponent, default 1.15)
 * --connections=N (default 20) --latency=MS (every subgraph answers after MS, default 0: the
 * mocks' own speed, so the gateway's CPU is the limit) --phases=off,cold,warm,down,rate (which to run;
 * `cold,warm` with BENCH_CPU_PROF_DIR=<dir> profiles the cache-on gateway on those alone).
 */
import { stopAllProcesses } from '../../devkit/processes.ts';
import { PORTICO_NODE_FLAGS } from '../../src/runtime/nodeFlags.ts';
import { mulberry32 } from '../../subgraphs-mock/data.ts';
import { postJson } from '../lib/http.ts';
import { runLoad, type LoadStats } from '../lib/load.ts';
import { numberArg, report, runScenario, setUp, stringArg } from './common.ts';

const WARMUP_S = numberArg('warmup', 3);
const DURATION_S = numberArg('duration', 8);
const ROUNDS = numberArg('rounds', 1);
/** Issue 17 point 8: "Zipf over 10,000 products". */
const N = numberArg('products', 10_000);
const ZIPF_S = numberArg('zipf', 1.15);
const PHASES = new Set(stringArg('phases', 'off,cold,warm,down,rate').split(','));
const PER_PAGE = 5;
const SUBGRAPHS = ['product', 'pricing', 'inventory', 'review'] as const;
const CONNECTIONS = numberArg('connections', 20);
/** Every subgraph answers after this long, ms: 0 = the mocks' own speed (CPU-bound gateway). */
const LATENCY_MS = numberArg('latency', 0);
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

/**
 * One storefront page: 5 products from a Zipf-drawn position of the catalogue (the popular
 * ones first, a long tail after). A list of products is one root fetch plus one entity fetch per
 * subgraph (4 calls); aliased `product(id:)` fields would cost 4 calls each (one plan path per
 * alias), which measures the planner rather than the cache.
 */
const QUERY = `query Page($offset: Int!) { products(first: ${PER_PAGE}, offset: $offset) { id name price { amount currency } inventory { inStock quantity } reviews(first: 3) { id rating } averageRating } }`;

/** Zipf(s) over 1..n by inverse CDF: product 1 is the most viewed, as in a real catalogue. */
function zipf(n: number, exponent: number, seed: number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 1; k <= n; k++) cdf[k - 1] = sum += 1 / k ** exponent;
  const rand = mulberry32(seed);
  return () => {
    const u = rand() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

async function main() {
  process.env.BENCH_CACHE_HINTS = '1';
  process.env.BENCH_CATALOG_SIZE = String(N);
  const bench = await setUp('cache');
  // Both as shipped (PORTICO_NODE_FLAGS: the young generation the image and `npm start` use): what
  // a cache keeps lives through scavenges, so their size matters to the cold phase.
  const off = await bench.startPortico('cache-off', { PORTICO_CACHE_ENABLED: 'false' }, { nodeFlags: PORTICO_NODE_FLAGS });
  const on = await bench.startPortico('cache-on', { PORTICO_ADMIN_TOKEN: ADMIN_TOKEN }, { profile: true, nodeFlags: PORTICO_NODE_FLAGS });
  if (LATENCY_MS > 0) for (const name of SUBGRAPHS) await postJson(bench.faultUrls[name]!, JSON.stringify({ latencyMs: LATENCY_MS }));
  /** A cold cache in a warm process: every entry invalidated (the process keeps its JIT and plans). */
  const invalidateAll = async () => {
    for (const subgraph of SUBGRAPHS) {
      const res = await fetch(`${on.opsUrl}/admin/cache/invalidate`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ subgraph }) });
      if (!res.ok) throw new Error(`invalidating ${subgraph}: HTTP ${res.status}`);
    }
  };
  const statsUrl = (name: string) => bench.faultUrls[name]!.replace(/\/faults$/, '/stats');
  const calls = async () => {
    let n = 0;
    for (const s of SUBGRAPHS) n += ((await (await fetch(statsUrl(s))).json()) as { graphqlRequests: number }).graphqlRequests;
    return n;
  };
  const next = zipf(N - PER_PAGE + 1, ZIPF_S, 17);
  const body = () => JSON.stringify({ query: QUERY, variables: { offset: next() - 1 } });

  type Row = { name: string; runs: LoadStats[]; calls: number; pages: number; cpuS: number; hits: number; lookups: number; pageHits: number; pageLookups: number; refreshes: number };
  const rows = new Map<string, Row>();
  /** The gateway's own CPU time, s (its process_cpu_seconds_total): robust to a busy machine, unlike req/s. */
  const cpuOf = async (gw: { opsUrl: string }) => Number(/^process_cpu_seconds_total (\S+)$/m.exec(await (await fetch(`${gw.opsUrl}/metrics`)).text())?.[1] ?? NaN);
  /**
   * Entity lookups so far (pricing, inventory, review; the product root fetch is not an entity):
   * hits (fresh or stale-while-revalidate) and all, a page answered whole counting as 15 hits
   * (5 products × 3 subgraphs); and the whole-page lookups.
   */
  const lookupsOf = async (gw: { opsUrl: string }) => {
    const lines = (await (await fetch(`${gw.opsUrl}/metrics`)).text()).split('\n');
    const sum = (f: (l: string) => boolean) => lines.filter(f).reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    const entity = (l: string) => l.startsWith('portico_cache_lookups_total{') && !l.includes('subgraph="product"');
    const pageHits = sum((l) => l.startsWith('portico_cache_responses_total{') && l.includes('result="hit"'));
    const pages = sum((l) => l.startsWith('portico_cache_responses_total{'));
    const perPage = PER_PAGE * (SUBGRAPHS.length - 1);
    const refreshes = sum((l) => l.startsWith('portico_cache_revalidations_total{'));
    return { hits: sum((l) => entity(l) && !l.includes('result="miss"')) + perPage * pageHits, all: sum(entity) + perPage * pageHits, pageHits, pages, refreshes };
  };
  async function phase(name: string, gw: { url: string; opsUrl: string }, warm: boolean, afterWarmUp?: () => Promise<void>, rate?: number) {
    const url = gw.url;
    if (warm) await runLoad({ url, connections: CONNECTIONS, durationS: WARMUP_S, headers: { 'content-type': 'application/json' }, nextBody: body, ...(rate ? { rate } : {}) });
    await afterWarmUp?.();
    const before = await calls();
    const cpuBefore = await cpuOf(gw);
    const lookupsBefore = await lookupsOf(gw);
    process.stderr.write(`${name}: measure ${DURATION_S} s\n`);
    const stats = await runLoad({ url, connections: CONNECTIONS, durationS: DURATION_S, headers: { 'content-type': 'application/json' }, nextBody: body, ...(rate ? { rate } : {}) });
    const cpuS = (await cpuOf(gw)) - cpuBefore;
    const made = (await calls()) - before;
    const lookupsAfter = await lookupsOf(gw);
    if (stats.errorSamples.length) process.stderr.write(`${name}: e.g. ${stats.errorSamples[0]}\n`);
    const row = rows.get(name) ?? { name, runs: [], calls: 0, pages: 0, cpuS: 0, hits: 0, lookups: 0, pageHits: 0, pageLookups: 0, refreshes: 0 };
    row.cpuS += cpuS;
    row.hits += lookupsAfter.hits - lookupsBefore.hits;
    row.lookups += lookupsAfter.all - lookupsBefore.all;
    row.pageHits += lookupsAfter.pageHits - lookupsBefore.pageHits;
    row.pageLookups += lookupsAfter.pages - lookupsBefore.pages;
    row.refreshes += lookupsAfter.refreshes - lookupsBefore.refreshes;
    row.runs.push(stats);
    row.calls += made;
    row.pages += stats.responses;
    rows.set(name, row);
  }

  const pricing = bench.faultUrls.pricing!;
  for (let round = 1; round <= ROUNDS; round++) {
    // Round 1's first cache-on phase starts with a warm process and a cold cache (everything
    // invalidated after the warm-up): its p99 is the "cold" figure.
    if (PHASES.has('off')) await phase('cache off', off, true);
    if (round === 1 && PHASES.has('cold')) await phase('cache on (cold cache)', on, true, invalidateAll);
    if (PHASES.has('warm')) await phase('cache on (warm)', on, round !== 1 || !PHASES.has('cold'));
    if (!PHASES.has('down')) continue;
    await postJson(pricing, JSON.stringify({ mode: 'refuse' }));
    await phase('pricing down, cache off', off, true);
    await phase('pricing down, cache on', on, false);
    await fetch(pricing, { method: 'DELETE' });
    if (LATENCY_MS > 0) await postJson(pricing, JSON.stringify({ latencyMs: LATENCY_MS }));
  }
  const offRow = rows.get('cache off');
  if (PHASES.has('rate') && offRow) {
    // Same offered load for both, below what cache off sustains: p99 then shows the cold
    // cache's own cost, not how much harder closed-loop load pushes the faster variant.
    const rate = Math.max(10, Math.round(0.7 * (offRow.pages / offRow.runs.reduce((a, s) => a + s.durationS, 0))));
    await phase(`cache off, ${rate} req/s offered`, off, true, undefined, rate);
    await phase(`cache on (cold cache), ${rate} req/s offered`, on, true, invalidateAll, rate);
  }
  await stopAllProcesses();

  const avg = (r: Row, f: (s: LoadStats) => number) => r.runs.reduce((a, s) => a + f(s), 0) / r.runs.length;
  const base = rows.get('cache off') ?? [...rows.values()][0]!;
  const lines = [
    `Cache benchmark — ${new Date().toISOString()} — subgraph latency ${LATENCY_MS} ms — ${bench.cores} cores, gateway pinned to CPU ${bench.gwCpu ?? '-'}, ${CONNECTIONS} connections, pages of ${PER_PAGE} products at a Zipf(s=${ZIPF_S}) position over ${N}, ${WARMUP_S} s warm-up + ${DURATION_S} s per phase, ${ROUNDS} round(s); default cache settings (L1 only, whole-page level on); entity hit ratio = pricing, inventory and review entities answered from the cache in that phase (a page answered whole counts its 15)`,
    '',
    '| phase | req/s | × cache off | p50 ms | p99 ms | gateway CPU ms / page | subgraph calls / page | of which background refreshes | entity hit ratio | pages answered whole | responses with errors | non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...[...rows.values()].map((r) => {
      const rps = avg(r, (s) => s.rps);
      return `| ${r.name} | ${rps.toFixed(0)} | ${(rps / avg(base, (s) => s.rps)).toFixed(2)} | ${avg(r, (s) => s.p50Ms).toFixed(1)} | ${avg(r, (s) => s.p99Ms).toFixed(1)} | ${((r.cpuS * 1_000) / Math.max(1, r.pages)).toFixed(2)} | ${(r.calls / Math.max(1, r.pages)).toFixed(2)} | ${r.lookups ? (r.refreshes / Math.max(1, r.pages)).toFixed(2) : '-'} | ${r.lookups ? `${((100 * r.hits) / r.lookups).toFixed(1)} %` : '-'} | ${r.pageLookups ? `${((100 * r.pageHits) / r.pageLookups).toFixed(1)} %` : '-'} | ${r.runs.reduce((a, s) => a + s.graphqlErrors, 0)} | ${r.runs.reduce((a, s) => a + s.non2xx, 0)} |`;
    }),
  ];
  report('cache', lines.join('\n'));
}

runScenario(main);
