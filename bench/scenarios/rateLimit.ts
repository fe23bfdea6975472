/**
 * `npm run bench:ratelimit` — issue "Rate limits shared through Redis", benchmark part. In one
 * run, alternating A B C A B C: product-page throughput and p50/p99 with the limiter off, with
 * the Redis limiter on (a limit never reached, so every request is decided in Redis), and with
 * the Redis limiter during a Redis outage (redis-server SIGKILLed before the phase), and (issue
 * "Redis Sentinel and Cluster") with the in-process limiter and the limiter on a three-primary
 * Redis Cluster.
 * Goals: < 5 % throughput cost and < 1 ms added p50 for the Redis limiter.
 *
 * Flags: --warmup=S (default 10) --duration=S (default 15) --rounds=N (default 2).
 */
import { freePort } from '../../devkit/ports.ts';
import { stopAllProcesses } from '../../devkit/processes.ts';
import { startRedis, startRedisCluster, type RunningRedis, type RunningRedisCluster } from '../../devkit/redis.ts';
import { runLoad, type LoadStats } from '../lib/load.ts';
import { averaged, numberArg, PRODUCT_PAGE_BODY as PAGE, runScenario, setUp, report } from './common.ts';

const WARMUP_S = numberArg('warmup', 10);
const DURATION_S = numberArg('duration', 15);
const ROUNDS = numberArg('rounds', 2);

type Variant = 'limiter off' | 'in-process limiter' | 'Redis limiter' | 'Redis Cluster limiter' | 'Redis limiter, Redis down';
const VARIANTS: Variant[] = ['limiter off', 'in-process limiter', 'Redis limiter', 'Redis Cluster limiter', 'Redis limiter, Redis down'];

async function main() {
  const bench = await setUp('rl');
  const { cores, gwCpu } = bench;
  const redisPort = await freePort();
  const results = new Map<Variant, LoadStats[]>();

  for (let round = 1; round <= ROUNDS; round++) {
    for (const v of VARIANTS) {
      // A blank server per phase, on the port the gateway is told about.
      const single = v === 'Redis limiter' || v === 'Redis limiter, Redis down';
      const redis: RunningRedis | undefined = single ? await startRedis({ port: redisPort }) : undefined;
      const cluster: RunningRedisCluster | undefined = v === 'Redis Cluster limiter' ? await startRedisCluster() : undefined;
      const redisUrl = single ? `redis://127.0.0.1:${redisPort}` : cluster?.url;
      const { child: gw, url } = await bench.startPortico(`portico-${round}-${VARIANTS.indexOf(v)}`, {
        PORTICO_RATE_LIMIT_ENABLED: v === 'limiter off' ? 'false' : 'true',
        ...(redisUrl ? { PORTICO_REDIS_URL: redisUrl } : {}),
      });
      process.stderr.write(`[round ${round}] ${v}: warm-up ${WARMUP_S} s, measure ${DURATION_S} s\n`);
      await runLoad({ url, connections: 50, durationS: WARMUP_S, headers: { 'content-type': 'application/json' }, fixedBody: PAGE });
      if (v === 'Redis limiter, Redis down') await redis?.kill('SIGKILL');
      const stats = await runLoad({ url, connections: 50, durationS: DURATION_S, headers: { 'content-type': 'application/json' }, fixedBody: PAGE });
      results.set(v, [...(results.get(v) ?? []), stats]);
      await gw.stop();
      await redis?.stop();
      await cluster?.stop();
    }
  }
  await stopAllProcesses();

  const rows = VARIANTS.map((v) => ({ v, ...averaged(results.get(v)!) }));
  const off = rows[0]!;
  const out = [
    `Rate-limit benchmark — ${new Date().toISOString()} — ${cores} cores, gateway pinned to CPU ${gwCpu ?? '-'}, 50 connections, ${WARMUP_S} s warm-up + ${DURATION_S} s per phase, ${ROUNDS} rounds (A B C D E, repeated), identical product pages`,
    '',
    '| variant | req/s | vs limiter off | p50 ms | added p50 ms | p99 ms | non-2xx | socket errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.v} | ${r.rps.toFixed(0)} | ${((r.rps / off.rps - 1) * 100).toFixed(1)} % | ${r.p50.toFixed(1)} | ${(r.p50 - off.p50).toFixed(1)} | ${r.p99.toFixed(1)} | ${r.non2xx} | ${r.socket} |`),
  ].join('\n');
  report('ratelimit', out);
}

runScenario(main);
