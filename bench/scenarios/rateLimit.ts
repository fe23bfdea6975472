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
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../lib/http.ts';
import { runLoad, type LoadStats } from '../lib/load.ts';
import { stopAllChildren } from '../lib/processes.ts';
import { averaged, numberArg, PRODUCT_PAGE_BODY as PAGE, ROOT, setUp } from './common.ts';

const WARMUP_S = numberArg('warmup', 10);
const DURATION_S = numberArg('duration', 15);
const ROUNDS = numberArg('rounds', 2);

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
  process.once('exit', () => redisProc?.kill('SIGKILL'));
  const bench = await setUp('rl');
  const { cores, gwCpu, work } = bench;
  const redisPort = await freePort();
  const results = new Map<Variant, LoadStats[]>();

  for (let round = 1; round <= ROUNDS; round++) {
    for (const v of VARIANTS) {
      if (v !== 'limiter off') await startRedis(redisPort, work);
      const { child: gw, url } = await bench.startPortico(`portico-${round}-${VARIANTS.indexOf(v)}`, {
        PORTICO_RATE_LIMIT_ENABLED: v === 'limiter off' ? 'false' : 'true',
        ...(v === 'limiter off' ? {} : { PORTICO_REDIS_URL: `redis://127.0.0.1:${redisPort}` }),
      });
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

  const rows = VARIANTS.map((v) => ({ v, ...averaged(results.get(v)!) }));
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
