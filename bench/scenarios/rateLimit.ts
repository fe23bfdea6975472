/**
 * `npm run bench:ratelimit` — issue "Rate limits shared through Redis", benchmark part. In one
 * run, alternating A B C A B C: product-page throughput and p50/p99 with the limiter off, with
 * the Redis limiter on (a limit never reached, so every request is decided in Redis), and with
 * the Redis limiter during a Redis outage (redis-server SIGKILLed before the phase).
 * Goals: < 5 % throughput cost and < 1 ms added p50 for the Redis limiter.
 *
 * Flags: --warmup=S (default 10) --duration=S (default 15) --rounds=N (default 2).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitUntil } from '../lib/http.ts';
import { runLoad, type LoadStats } from '../lib/load.ts';
import { countCores, installCleanupHandlers, pinSelf, spawnChild, stopAllChildren, type Child } from '../lib/processes.ts';
import { READY_PREFIX, type SubgraphsReady } from '../lib/protocol.ts';
import { formatUrlOverrides } from '../lib/supergraph.ts';

process.env.APOLLO_TELEMETRY_DISABLED = 'true';
const ROOT = resolve(import.meta.dirname, '..', '..');
const arg = (name: string, def: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
const WARMUP_S = arg('warmup', 10);
const DURATION_S = arg('duration', 15);
const ROUNDS = arg('rounds', 2);
const PAGE = JSON.stringify({ query: '{ products(first: 20) { id name price { amount currency } inventory { inStock quantity } reviews(first: 3) { id rating } averageRating } }' });

type Variant = 'limiter off' | 'Redis limiter' | 'Redis limiter, Redis down';
const VARIANTS: Variant[] = ['limiter off', 'Redis limiter', 'Redis limiter, Redis down'];

let redisProc: ChildProcess | undefined;
async function startRedis(port: number, dir: string): Promise<void> {
  redisProc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((res, rej) => {
    redisProc!.stdout!.on('data', (d: Buffer) => d.toString().includes('Ready to accept') && res());
    redisProc!.once('exit', () => rej(new Error('redis-server exited')));
  });
}
async function killRedis(): Promise<void> {
  if (!redisProc || redisProc.exitCode !== null || redisProc.signalCode !== null) return;
  redisProc.kill('SIGKILL');
  await once(redisProc, 'exit');
}

async function main() {
  installCleanupHandlers();
  process.once('exit', () => redisProc?.kill('SIGKILL'));
  const cores = countCores();
  const gwCpu = cores >= 2 ? 1 : undefined;
  const helperCpu = cores >= 2 ? 0 : undefined;
  if (helperCpu !== undefined) pinSelf(helperCpu);
  const work = mkdtempSync(join(tmpdir(), 'portico-bench-rl-'));
  const subgraphs = spawnChild({ name: 'subgraphs', nodeArgs: ['--import', 'tsx', join(ROOT, 'bench/subgraphs/main.ts'), 'demo'], env: process.env, cwd: ROOT, cpu: helperCpu, logPath: join(work, 'subgraphs.log') });
  const ready = JSON.parse(await subgraphs.waitForLine(READY_PREFIX, 30_000)) as SubgraphsReady;
  const redisPort = await freePort();
  const results = new Map<Variant, LoadStats[]>();

  for (let round = 1; round <= ROUNDS; round++) {
    for (const v of VARIANTS) {
      if (v !== 'limiter off') await startRedis(redisPort, work);
      const port = await freePort();
      const gw: Child = spawnChild({
        name: `portico-${round}-${VARIANTS.indexOf(v)}`,
        nodeArgs: ['--import', 'tsx', join(ROOT, 'src/main.ts')],
        env: {
          ...process.env,
          NODE_ENV: 'production',
          PORT: String(port),
          PORTICO_HOST: '127.0.0.1',
          PORTICO_OPS_PORT: String(await freePort()),
          PORTICO_SUBGRAPH_URLS: formatUrlOverrides(ready.urls),
          PORTICO_LOG_LEVEL: 'warn',
          PORTICO_RATE_LIMIT_ENABLED: v === 'limiter off' ? 'false' : 'true',
          // Far above what 50 connections can send, so every request is decided, none refused.
          PORTICO_RATE_LIMITS: 'anonymous=86400000000/1d',
          ...(v === 'limiter off' ? {} : { PORTICO_REDIS_URL: `redis://127.0.0.1:${redisPort}` }),
        },
        cwd: ROOT,
        cpu: gwCpu,
        logPath: join(work, `portico-${round}-${VARIANTS.indexOf(v)}.log`),
      });
      await waitUntil('portico ready', async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok, 60_000, () => (gw.hasExited() ? gw.tail() : undefined));
      const url = `http://127.0.0.1:${port}/graphql`;
      process.stderr.write(`[round ${round}] ${v}: warm-up ${WARMUP_S} s, measure ${DURATION_S} s\n`);
      await runLoad({ url, connections: 50, durationS: WARMUP_S, headers: { 'content-type': 'application/json' }, fixedBody: PAGE });
      if (v === 'Redis limiter, Redis down') await killRedis();
      const stats = await runLoad({ url, connections: 50, durationS: DURATION_S, headers: { 'content-type': 'application/json' }, fixedBody: PAGE });
      results.set(v, [...(results.get(v) ?? []), stats]);
      await gw.stop();
      await killRedis();
    }
  }
  await stopAllChildren();

  const rows = VARIANTS.map((v) => {
    const runs = results.get(v)!;
    const avg = (f: (x: LoadStats) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
    return { v, rps: avg((r) => r.rps), p50: avg((r) => r.p50Ms), p99: avg((r) => r.p99Ms), non2xx: runs.reduce((a, r) => a + r.non2xx, 0), socket: runs.reduce((a, r) => a + r.socketErrors, 0) };
  });
  const off = rows[0]!;
  const out = [
    `Rate-limit benchmark — ${new Date().toISOString()} — ${cores} cores, gateway pinned to CPU ${gwCpu ?? '-'}, 50 connections, ${WARMUP_S} s warm-up + ${DURATION_S} s per phase, ${ROUNDS} rounds (A B C A B C), identical product pages`,
    '',
    '| variant | req/s | vs limiter off | p50 ms | added p50 ms | p99 ms | non-2xx | socket errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.v} | ${r.rps.toFixed(0)} | ${((r.rps / off.rps - 1) * 100).toFixed(1)} % | ${r.p50.toFixed(1)} | ${(r.p50 - off.p50).toFixed(1)} | ${r.p99.toFixed(1)} | ${r.non2xx} | ${r.socket} |`),
  ].join('\n');
  process.stdout.write(`${out}\n`);
  writeFileSync(join(ROOT, 'bench/results', `ratelimit-${new Date().toISOString().replace(/[:.]/g, '-')}.md`), `${out}\n`);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  redisProc?.kill('SIGKILL');
  await stopAllChildren();
  process.exit(1);
});
