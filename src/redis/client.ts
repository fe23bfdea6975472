import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { describeRedisTarget, parseRedisUrl, type RedisTarget } from './url.ts';
import { extend } from '../runtime/objects.ts';

/**
 * The one Redis client of a gateway process, shared by everything that keeps state across
 * instances: rate-limit buckets and policies, persisted queries (APQ), stale subgraph values,
 * the live instance count. A single Redis or one found through Sentinel is a `Redis`; a Redis
 * Cluster is a `Cluster` (same commands; multi-key commands need keys in one hash slot). Users
 * take a `RedisClient` from here rather than from ioredis, so the library stays an implementation
 * detail of this folder.
 */
export type RedisClient = Redis | Cluster;

/**
 * Budget for one command on the request path, ms (PORTICO_REDIS_COMMAND_TIMEOUT_MS). A healthy
 * Redis on the same network answers in ~0.3 ms; past 50 ms the request is better served by the
 * local fallback than kept waiting.
 */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 50;

/** First reconnect delay, ms; doubled per attempt. Short: a restarted Redis is back in ~100 ms. */
export const RECONNECT_BASE_DELAY_MS = 50;
/** Longest reconnect delay, ms: caps how long shared limiting stays off after Redis returns. */
export const RECONNECT_MAX_DELAY_MS = 2_000;
/** ± share of each reconnect delay randomised, so N instances do not reconnect in lockstep. */
export const RECONNECT_JITTER_RATIO = 0.2;
/**
 * Floor of ioredis's own `commandTimeout`, ms. The limiter enforces the short timeout itself
 * (`withDeadline` in `deadline.ts`), letting replies that arrived during an event-loop stall win; ioredis rejects
 * straight from its timer, so its timeout must stay well behind ours. It is only a backstop for
 * commands nobody waits for any more (e.g. while Redis is frozen).
 */
export const IOREDIS_COMMAND_TIMEOUT_BACKSTOP_MS = 1_000;
/** TCP connect budget, ms: Redis is on the local network; a slow connect is a dead Redis. */
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 1_000;

/**
 * Delay before reconnect attempt `attempt` (1-based): min(2^(attempt-1) * 50 ms, 2 s) ± 20 %.
 * Pure (randomness injected) so the schedule is unit-tested.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(RECONNECT_BASE_DELAY_MS * 2 ** Math.max(0, attempt - 1), RECONNECT_MAX_DELAY_MS);
  const jitter = (random() * 2 - 1) * RECONNECT_JITTER_RATIO * base;
  return Math.max(1, Math.round(base + jitter));
}

export interface RedisClientOptions {
  /**
   * PORTICO_REDIS_URL: `redis://[user:password@]host:port[/db]` (or `rediss://`), a Sentinel
   * group `redis+sentinel://host1:port1,host2:port2/<master name>`, or Cluster seed nodes
   * `redis+cluster://host1:port1,host2:port2`; every form in `url.ts`. Throws `RedisUrlError` if
   * it is none of them.
   */
  readonly url: string;
  /**
   * Per-command timeout, ms (PORTICO_REDIS_COMMAND_TIMEOUT_MS); pass the limiter the same value.
   * The limiter enforces it itself; ioredis's own `commandTimeout` is only a backstop, set to
   * max(`IOREDIS_COMMAND_TIMEOUT_BACKSTOP_MS`, 2 × this).
   * Default `DEFAULT_REDIS_COMMAND_TIMEOUT_MS` (50).
   */
  readonly commandTimeoutMs?: number;
  /** TCP connect timeout, ms. Default `DEFAULT_REDIS_CONNECT_TIMEOUT_MS` (1,000). */
  readonly connectTimeoutMs?: number;
}

export interface RedisClientDeps {
  readonly logger: Logger;
}

/**
 * An ioredis client shaped for a request path that must never wait on Redis:
 * - `lazyConnect`: construction never blocks; `createRateLimiter` starts the connection in the
 *   background and serves from the local fallback until it is ready.
 * - `enableOfflineQueue: false`, `maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands:
 *   false`: a command either goes out now or fails now, and nothing is replayed after a
 *   reconnect (a replayed increment would charge a client twice).
 * - a long `commandTimeout` backstop (the limiter enforces the short one itself).
 * - jittered, capped reconnect (`reconnectDelayMs`), forever.
 * The caller owns the client and `quit()`s it at shutdown.
 */
export function createRedisClient(options: RedisClientOptions, deps: RedisClientDeps): RedisClient {
  const target = parseRedisUrl(options.url);
  const common = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableAutoPipelining: false,
    commandTimeout: Math.max(
      IOREDIS_COMMAND_TIMEOUT_BACKSTOP_MS,
      2 * (options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS),
    ),
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt: number) => reconnectDelayMs(attempt),
    // Name and log component predate the client's move out of rateLimit/; kept as they are so
    // CLIENT LIST and log queries in operations stay valid.
    connectionName: 'portico-ratelimit',
  } satisfies RedisOptions;
  const redis = connect(target, common);
  TARGETS.set(redis, target);
  // Without a listener ioredis prints every connection error to the console. Each failed
  // reconnect is expected while Redis is down, and the limiter logs the mode change once,
  // so these stay at debug.
  redis.on('error', (error: Error) => {
    deps.logger.debug({ err: error, component: 'rateLimit' }, 'rate-limit Redis connection error');
  });
  return redis;
}

function withoutClusterManaged(options: RedisOptions): Omit<RedisOptions, 'retryStrategy' | 'enableOfflineQueue'> {
  const { retryStrategy: _retry, enableOfflineQueue: _queue, ...rest } = options;
  return rest;
}

/** Which topology each client was built for, for `redisAddress` (a Cluster has no one host). */
const TARGETS = new WeakMap<RedisClient, RedisTarget>();

function connect(target: RedisTarget, common: RedisOptions): RedisClient {
  switch (target.kind) {
    case 'single':
      return new Redis(target.url, common);
    case 'sentinel':
      return new Redis(extend(common, {
        sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
        name: target.masterName,
        db: target.db,
        ...(target.username ? { username: target.username } : {}),
        ...(target.password ? { password: target.password } : {}),
        ...(target.sentinelUsername ? { sentinelUsername: target.sentinelUsername } : {}),
        ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
        ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
        // Sentinels unreachable: keep asking, on the same capped, jittered schedule.
        sentinelRetryStrategy: (attempt: number) => reconnectDelayMs(attempt),
        // Subscribe to +switch-master on the sentinels: the client drops the old primary as soon
        // as a failover is decided, instead of waiting for its socket to time out.
        failoverDetector: true,
      }));
    case 'cluster':
      return new Cluster(
        target.nodes.map((n) => ({ host: n.host, port: n.port })),
        {
          lazyConnect: true,
          enableOfflineQueue: false,
          enableAutoPipelining: false,
          // Writes and reads go to primaries only: a bucket read from a lagging replica would
          // admit twice.
          scaleReads: 'master',
          clusterRetryStrategy: (attempt: number) => reconnectDelayMs(attempt),
          // A command whose connection closed, or that met CLUSTERDOWN, fails now instead of being
          // re-sent 100 ms later: it may already have run (a bucket charged twice), and the
          // request has long been answered by the fallback. MOVED / ASK are still followed: the
          // first node did not run the command.
          retryDelayOnFailover: 0,
          retryDelayOnClusterDown: 0,
          // The cluster's own offline queue and retry strategy (above) replace the per-node ones.
          redisOptions: Object.assign(
            withoutClusterManaged(common),
            target.username ? { username: target.username } : {},
            target.password ? { password: target.password } : {},
            target.tls ? { tls: {} } : {},
          ),
        },
      );
    default: {
      const exhaustive: never = target;
      throw new Error(`unknown Redis target ${JSON.stringify(exhaustive)}`);
    }
  }
}

/**
 * Where a client points, for log lines (never the URL: it may carry a password): `host:port` for
 * one Redis, the master name and sentinels, or the cluster seed nodes.
 */
export function redisAddress(redis: RedisClient): string {
  const target = TARGETS.get(redis);
  if (target && target.kind !== 'single') return describeRedisTarget(target);
  if (redis instanceof Cluster) return 'cluster';
  return `${redis.options.host ?? '?'}:${redis.options.port ?? '?'}`;
}
