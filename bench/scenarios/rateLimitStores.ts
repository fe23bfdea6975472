/**
 * `npx tsx bench/scenarios/rateLimitStores.ts` — issue "Redis Sentinel and Cluster", benchmark
 * part: what one rate-limit decision costs with buckets in process, in one Redis, and in a
 * three-primary Redis Cluster. Limiter-level (no gateway, no HTTP), so the number is the p50 a
 * request gains from the limiter, not lost in the ±10 % noise of an end-to-end run on a shared
 * box; `npm run bench:ratelimit` has the end-to-end view.
 *
 * Per variant, in one run, alternating A B C A B C: `--sequential=N` checks one after another
 * (latency: p50 / p99 per check) and `--concurrent=N` checks with 64 in flight (throughput), over
 * 1,000 subjects (their buckets spread over every Cluster slot range). Limits are never reached.
 *
 * Flags: --sequential=N (default 20,000) --concurrent=N (default 50,000) --rounds=N (default 2).
 */
import { pino } from 'pino';
import { startRedis, startRedisCluster } from '../../devkit/redis.ts';
import { stopAllProcesses } from '../../devkit/processes.ts';
import { createRateLimiter, type RateLimiter } from '../../src/rateLimit/index.ts';
import { createRedisClient, type RedisClient } from '../../src/redis/index.ts';
import { until } from '../../devkit/wait.ts';
import { numberArg, report, runScenario } from './common.ts';

const SEQUENTIAL = numberArg('sequential', 20_000);
const CONCURRENT = numberArg('concurrent', 50_000);
const ROUNDS = numberArg('rounds', 2);
const IN_FLIGHT = 64;
const SUBJECTS = 1_000;
const policies = { anonymous: { limit: 1_000_000_000, windowMs: 86_400_000 } };

type Variant = 'in-process' | 'single Redis' | 'Redis Cluster (3 primaries)';
const VARIANTS: Variant[] = ['in-process', 'single Redis', 'Redis Cluster (3 primaries)'];

interface Run {
  p50Us: number;
  p99Us: number;
  checksPerS: number;
  errors: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function measure(limiter: RateLimiter): Promise<Run> {
  const subject = (i: number) => ({ key: `ip:10.0.${(i % SUBJECTS) >> 8}.${(i % SUBJECTS) & 255}`, tier: 'anonymous' });
  let errors = 0;
  const lat: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t = performance.now();
    const r = await limiter.check(subject(i));
    lat.push((performance.now() - t) * 1_000);
    if (r.source !== 'redis' && r.source !== 'memory') errors++;
  }
  lat.sort((a, b) => a - b);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < CONCURRENT) {
        const r = await limiter.check(subject(next++));
        if (r.source !== 'redis' && r.source !== 'memory') errors++;
      }
    }),
  );
  const checksPerS = CONCURRENT / ((performance.now() - started) / 1_000);
  return { p50Us: quantile(lat, 0.5), p99Us: quantile(lat, 0.99), checksPerS, errors };
}

async function main() {
  const logger = pino({ level: 'silent' });
  const results = new Map<Variant, Run[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const v of VARIANTS) {
      const server = v === 'single Redis' ? await startRedis() : v === 'in-process' ? undefined : await startRedisCluster();
      let redis: RedisClient | undefined;
      if (server) {
        redis = createRedisClient({ url: server.url, commandTimeoutMs: 1_000 }, { logger });
      }
      const limiter = createRateLimiter({ policies, commandTimeoutMs: 1_000, hotKeyMaxBlockMs: 0 }, { logger, redis });
      await until(`${v}: limiter ready`, () => limiter.mode() === (redis ? 'redis' : 'memory'), 20_000);
      process.stderr.write(`[round ${round}] ${v}\n`);
      results.set(v, [...(results.get(v) ?? []), await measure(limiter)]);
      await limiter.close();
      redis?.disconnect();
      await server?.stop();
    }
  }
  await stopAllProcesses();

  const avg = (runs: Run[], k: keyof Run) => runs.reduce((n, r) => n + r[k], 0) / runs.length;
  const rows = VARIANTS.map((v) => {
    const runs = results.get(v)!;
    return { v, p50: avg(runs, 'p50Us'), p99: avg(runs, 'p99Us'), rate: avg(runs, 'checksPerS'), errors: runs.reduce((n, r) => n + r.errors, 0) };
  });
  const base = rows[0]!;
  const out = [
    `Rate-limit store benchmark — ${new Date().toISOString()} — limiter.check() only; ${SEQUENTIAL} sequential + ${CONCURRENT} concurrent (${IN_FLIGHT} in flight) checks per variant, ${SUBJECTS} subjects, ${ROUNDS} rounds (A B C A B C), loopback`,
    '',
    '| buckets | p50 µs / check | added p50 vs in-process | p99 µs | checks/s (64 in flight) | not decided by the store |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.v} | ${r.p50.toFixed(0)} | ${((r.p50 - base.p50) / 1_000).toFixed(3)} ms | ${r.p99.toFixed(0)} | ${r.rate.toFixed(0)} | ${r.errors} |`),
  ].join('\n');
  report('ratelimit-stores', out);
}

runScenario(main);
