/**
 * `npm run bench:degradation` — issue "Degrade, never fail whole", benchmark part. In one run,
 * alternating A B A B: product-page throughput and p50/p99 with all subgraphs healthy, with
 * pricing refused (its breaker opens), with pricing slow (2 s, timeout 300 ms) letting the
 * breaker open, and with pricing slow and the breaker forced closed (every request pays the
 * timeout). Goals: degraded p99 <= healthy p99; slow-subgraph p99 <= timeout + 100 ms.
 *
 * Flags: --warmup=S (default 10) --duration=S (default 15) --rounds=N (default 2).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, postJson, waitUntil } from '../lib/http.ts';
import { runLoad, type LoadStats } from '../lib/load.ts';
import { countCores, installCleanupHandlers, pinSelf, spawnChild, stopAllChildren } from '../lib/processes.ts';
import { READY_PREFIX, type SubgraphsReady } from '../lib/protocol.ts';
import { formatUrlOverrides } from '../lib/supergraph.ts';

process.env.APOLLO_TELEMETRY_DISABLED = 'true';
const ROOT = resolve(import.meta.dirname, '..', '..');
const arg = (name: string, def: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
const WARMUP_S = arg('warmup', 10);
const DURATION_S = arg('duration', 15);
const ROUNDS = arg('rounds', 2);
const PRICING_TIMEOUT_MS = 300;
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const PAGE = JSON.stringify({
  query: '{ products(first: 20) { id name price { amount currency } inventory { inStock quantity } reviews(first: 3) { id rating } averageRating } }',
});

type Scenario = 'healthy' | 'pricing refused (breaker open)' | 'pricing slow, breaker may open' | 'pricing slow, breaker forced closed';
const SCENARIOS: Scenario[] = ['healthy', 'pricing refused (breaker open)', 'pricing slow, breaker may open', 'pricing slow, breaker forced closed'];

async function main() {
  installCleanupHandlers();
  const cores = countCores();
  const gwCpu = cores >= 2 ? 1 : undefined;
  const helperCpu = cores >= 2 ? 0 : undefined;
  if (helperCpu !== undefined) pinSelf(helperCpu);
  const work = mkdtempSync(join(tmpdir(), 'portico-bench-degrade-'));
  const subgraphs = spawnChild({ name: 'subgraphs', nodeArgs: ['--import', 'tsx', join(ROOT, 'bench/subgraphs/main.ts'), 'demo'], env: process.env, cwd: ROOT, cpu: helperCpu, logPath: join(work, 'subgraphs.log') });
  const ready = JSON.parse(await subgraphs.waitForLine(READY_PREFIX, 30_000)) as SubgraphsReady;
  const port = await freePort();
  const opsPort = await freePort();
  const gw = spawnChild({
    name: 'portico',
    nodeArgs: ['--import', 'tsx', join(ROOT, 'src/main.ts')],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      PORTICO_HOST: '127.0.0.1',
      PORTICO_OPS_PORT: String(opsPort),
      PORTICO_ADMIN_TOKEN: ADMIN_TOKEN,
      PORTICO_SUBGRAPH_URLS: formatUrlOverrides(ready.urls),
      PORTICO_SUBGRAPH_TIMEOUTS: `pricing=${PRICING_TIMEOUT_MS}`,
      PORTICO_RATE_LIMITS: 'anonymous=86400000000/1d',
      PORTICO_LOG_LEVEL: 'warn',
    },
    cwd: ROOT,
    cpu: gwCpu,
    logPath: join(work, 'portico.log'),
  });
  const url = `http://127.0.0.1:${port}/graphql`;
  const ops = `http://127.0.0.1:${opsPort}`;
  await waitUntil('portico ready', async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok, 60_000, () => (gw.hasExited() ? gw.tail() : undefined));
  const pricingFaults = ready.faultUrls.pricing!;
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
  await stopAllChildren();

  const rows = SCENARIOS.map((s) => {
    const runs = results.get(s)!;
    const avg = (f: (x: LoadStats) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
    return { s, rps: avg((r) => r.rps), p50: avg((r) => r.p50Ms), p99: avg((r) => r.p99Ms), non2xx: runs.reduce((a, r) => a + r.non2xx, 0), errors: runs.reduce((a, r) => a + r.graphqlErrors, 0), socket: runs.reduce((a, r) => a + r.socketErrors, 0) };
  });
  const healthy = rows[0]!;
  const lines = [
    `Degradation benchmark — ${new Date().toISOString()} — ${cores} cores, gateway pinned to CPU ${gwCpu ?? '-'}, 50 connections, ${WARMUP_S} s warm-up + ${DURATION_S} s per phase, ${ROUNDS} rounds (A B C D A B C D), pricing timeout ${PRICING_TIMEOUT_MS} ms`,
    '',
    '| scenario | req/s | p50 ms | p99 ms | p99 / healthy p99 | non-2xx | responses with errors | socket errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.s} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${(r.p99 / healthy.p99).toFixed(2)} | ${r.non2xx} | ${r.errors} | ${r.socket} |`),
  ];
  const out = lines.join('\n');
  process.stdout.write(`${out}\n`);
  writeFileSync(join(ROOT, 'bench/results', `degradation-${new Date().toISOString().replace(/[:.]/g, '-')}.md`), `${out}\n`);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  await stopAllChildren();
  process.exit(1);
});
