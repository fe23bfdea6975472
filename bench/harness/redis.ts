/**
 * Redis for portico-full*'s rate limiter, stale store and APQ (the issue's "Redis rate limiter
 * with a high limit"): BENCH_REDIS_URL when given, else a private redis-server on a free loopback
 * port, stopped with the other children; else none, and the in-process limiter is used.
 */
import { redisServerBin, startRedis } from '../../devkit/redis.ts';
import type { GatewayName } from '../gateways/index.ts';
import { progress } from './progress.ts';

/**
 * Sets BENCH_REDIS_URL (read by the portico-full* variants) when a selected gateway needs Redis.
 * @param cores `nproc`; `pinned` whether children are pinned at all.
 * @returns notes for the results header.
 */
export async function provideRedis(gateways: readonly GatewayName[], pinned: boolean, cores: number): Promise<string[]> {
  if (process.env['BENCH_REDIS_URL'] !== undefined) {
    return [`portico-full* rate limiter, stale store and APQ in Redis at BENCH_REDIS_URL=${process.env['BENCH_REDIS_URL']}`];
  }
  if (!gateways.some((n) => n.startsWith('portico-full'))) return [];
  if (redisServerBin() === undefined) {
    progress('no redis-server: portico-full* falls back to its in-process limiter');
    return ['portico-full* on the in-process limiter: no redis-server found (apt-get install redis-server)'];
  }
  // Core 0 beside the subgraphs by default. BENCH_REDIS_CORE=1 pins it beside the gateway
  // instead: its CPU is then charged to Portico's core, but its answers no longer queue behind
  // the load generator when core 0 is saturated.
  const redisCore = pinned ? Number(process.env['BENCH_REDIS_CORE'] ?? 0) : undefined;
  if (redisCore !== undefined && !(Number.isInteger(redisCore) && redisCore >= 0 && redisCore < cores)) {
    throw new Error(`BENCH_REDIS_CORE must be a core number from 0 to ${cores - 1}, got "${process.env['BENCH_REDIS_CORE']}"`);
  }
  const { url } = await startRedis({ cpu: redisCore });
  process.env['BENCH_REDIS_URL'] = url;
  progress(`redis-server for portico-full*: ${url}`);
  return [`portico-full* rate limiter, stale store and APQ in a private redis-server (${url}, core ${redisCore ?? 'unpinned'})`];
}
