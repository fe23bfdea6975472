/**
 * `npm run bench:degradation` — issue "Degrade, never fail whole", benchmark part. In one run,
 * alternating A B A B: product-page throughput and p50/p99 with all subgraphs healthy, with
 * pricing refused (its breaker opens), with pricing slow (2 s, timeout 300 ms) letting the
 * breaker open, and with pricing slow and the breaker forced closed (every request pays the
 * timeout). Goals: degraded p99 <= healthy p99; slow-subgraph p99 <= timeout + 100 ms.
 *
 * Flags: --warmup=S (default 10) --duration=S (default 15) --rounds=N (default 2).
 */
import { stopAllProcesses } from '../../devkit/processes.ts';
import { postJson } from '../lib/http.ts';
import { runLoad, type LoadStats } from '../lib/load.ts';
import { averaged, numberArg, PRODUCT_PAGE_BODY as PAGE, runScenario, setUp, report } from './common.ts';

const WARMUP_S = numberArg('warmup', 10);
const DURATION_S = numberArg('duration', 15);
const ROUNDS = numberArg('rounds', 2);
const PRICING_TIMEOUT_MS = 300;
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

type Scenario = 'healthy' | 'pricing refused (breaker open)' | 'pricing slow, breaker may open' | 'pricing slow, breaker forced closed';
const SCENARIOS: Scenario[] = ['healthy', 'pricing refused (breaker open)', 'pricing slow, breaker may open', 'pricing slow, breaker forced closed'];

async function main() {
  const bench = await setUp('degrade');
  const { cores, gwCpu } = bench;
  const gw = await bench.startPortico('portico', { PORTICO_ADMIN_TOKEN: ADMIN_TOKEN, PORTICO_SUBGRAPH_TIMEOUTS: `pricing=${PRICING_TIMEOUT_MS}` });
  const url = gw.url;
  const ops = gw.opsUrl;
  const pricingFaults = bench.faultUrls.pricing!;
  const admin = (mode: string) =>
    fetch(`${ops}/admin/breakers/pricing`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ mode }) });

  async function enter(s: Scenario) {
    await fetch(pricingFaults, { method: 'DELETE' });
    await admin('auto');
    if (s === 'pricing refused (breaker open)') await postJson(pricingFaults, JSON.stringify({ mode: 'refuse' }));
    if (s.startsWith('pricing slow')) await postJson(pricingFaults, JSON.stringify({ latencyMs: 2_000 }));
    if (s === 'pricing slow, breaker forced closed') await admin('closed');
  }

  const results = new Map<Scenario, LoadStats[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of SCENARIOS) {
      await enter(s);
      process.stderr.write(`[round ${round}] ${s}: warm-up ${WARMUP_S} s, measure ${DURATION_S} s\n`);
      await runLoad({ url, connections: 50, durationS: WARMUP_S, headers: { 'content-type': 'application/json' }, fixedBody: PAGE });
      const stats = await runLoad({ url, connections: 50, durationS: DURATION_S, headers: { 'content-type': 'application/json' }, fixedBody: PAGE });
      results.set(s, [...(results.get(s) ?? []), stats]);
    }
  }
  await enter('healthy');
  await stopAllProcesses();

  const rows = SCENARIOS.map((s) => ({ s, ...averaged(results.get(s)!) }));
  const healthy = rows[0]!;
  const lines = [
    `Degradation benchmark — ${new Date().toISOString()} — ${cores} cores, gateway pinned to CPU ${gwCpu ?? '-'}, 50 connections, ${WARMUP_S} s warm-up + ${DURATION_S} s per phase, ${ROUNDS} rounds (A B C D A B C D), pricing timeout ${PRICING_TIMEOUT_MS} ms`,
    '',
    '| scenario | req/s | p50 ms | p99 ms | p99 / healthy p99 | non-2xx | responses with errors | socket errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.s} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${(r.p99 / healthy.p99).toFixed(2)} | ${r.non2xx} | ${r.errors} | ${r.socket} |`),
  ];
  const out = lines.join('\n');
  report('degradation', out);
}

runScenario(main);
