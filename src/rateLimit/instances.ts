import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { RedisClient } from '../redis/client.ts';
import { withDeadline } from '../redis/deadline.ts';
import { acceptLiveCount, instanceId, liveCountInForce } from './liveCount.ts';

/**
 * Redis key of the heartbeat set: a sorted set, member = instance id, score = when its heartbeat
 * expires (Redis clock, ms). One key, so on a Cluster the script runs on one slot. Outside
 * `portico:rl:`: it is not a bucket.
 */
export const INSTANCES_KEY = 'portico:instances';
/** Heartbeat period, ms: a new instance is counted everywhere within ~1 s. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;
/**
 * A member expires this long after its last heartbeat, ms: three missed beats, so one slow beat
 * (GC, a busy Redis) does not drop a live instance, and a dead one stops counting within 3 s.
 */
export const DEFAULT_HEARTBEAT_TTL_MS = 3_000;

/**
 * Announce, expire the silent, count: one transaction on one key (one slot on a Cluster), scored on
 * Redis's clock (instances' clocks may skew), read by a TIME just before. Not a Lua script: the
 * rate-limit script's EVALSHA count is how ops (and tests) see bucket traffic, and a heartbeat
 * must not blur it. Resolves to the live count, this instance included.
 */
async function heartbeat(redis: RedisClient, key: string, member: string, ttlMs: number): Promise<unknown> {
  const [seconds, micros] = await redis.time();
  const nowMs = Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
  const replies = await redis
    .multi()
    .zremrangebyscore(key, '-inf', nowMs)
    .zadd(key, nowMs + ttlMs, member)
    .pexpire(key, ttlMs)
    .zcard(key)
    .exec();
  const last = replies?.at(-1);
  if (!last || last[0]) throw last?.[0] ?? new Error('heartbeat transaction aborted');
  return last[1];
}

export interface InstanceCountOptions {
  /** The count until the first heartbeat answers (PORTICO_RATE_LIMIT_INSTANCES). */
  readonly startCount: number;
  /** Budget of one heartbeat, ms. */
  readonly commandTimeoutMs: number;
  /** Default `DEFAULT_HEARTBEAT_INTERVAL_MS` (1,000). */
  readonly intervalMs?: number;
  /** Default `DEFAULT_HEARTBEAT_TTL_MS` (3,000); must exceed the interval. */
  readonly ttlMs?: number;
  /** Default `INSTANCES_KEY`. */
  readonly key?: string;
}

export interface InstanceCountDeps {
  readonly logger: Logger;
  readonly redis: RedisClient;
  /** Monotonic clock, ms. Default `performance.now`. */
  readonly now?: () => number;
  /** Called with the count in force whenever it changes. */
  onChange?(count: number): void;
}

export interface InstanceCount {
  /** The last live count Redis reported (or the start-up value until it has). */
  current(): number;
  /** Send one heartbeat now (the timer does this every interval). */
  beat(): Promise<void>;
  /** Stops the heartbeat and leaves the set at once, so the others' count drops now. Idempotent. */
  close(): Promise<void>;
}

/**
 * This instance's heartbeat in Redis and the fleet size it learns from it. While Redis answers,
 * every instance refreshes its member and reads the count; when Redis goes, each keeps the last
 * count it saw, which is what divides a quota in the local fallback.
 */
export function createInstanceCount(options: InstanceCountOptions, deps: InstanceCountDeps): InstanceCount {
  const { redis, logger } = deps;
  const key = options.key ?? INSTANCES_KEY;
  const ttlMs = options.ttlMs ?? DEFAULT_HEARTBEAT_TTL_MS;
  const intervalMs = options.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  if (!(ttlMs > intervalMs)) throw new RangeError(`heartbeat ttlMs (${ttlMs}) must exceed intervalMs (${intervalMs})`);
  const member = instanceId(hostname(), process.pid);
  const now = deps.now ?? (() => performance.now());
  const startCount = Math.max(1, Math.floor(options.startCount));
  let reported: number | undefined;
  // The count may only drop once the set has had a TTL to fill: after start, and again after each
  // reconnect (a blank restarted Redis has an empty set that the fleet re-fills within a second).
  let floor = startCount;
  let settlingSince: number | undefined;
  let lastLogged = startCount;
  let beating = false;
  let closed = false;

  async function beat(): Promise<void> {
    if (closed || beating || redis.status !== 'ready') return;
    beating = true;
    try {
      const reply = await withDeadline(heartbeat(redis, key, member, ttlMs), options.commandTimeoutMs);
      const next = acceptLiveCount(reported ?? 0, reply);
      if (next >= 1) {
        settlingSince ??= now();
        reported = next;
      }
      const inForce = current();
      if (inForce !== lastLogged) {
        logger.info({ event: 'rate_limit_instances', liveInstances: inForce, previous: lastLogged }, `live gateway instances: ${inForce} (was ${lastLogged})`);
        lastLogged = inForce;
        deps.onChange?.(inForce);
      }
    } catch (error) {
      // Keep the last count: it is exactly what the fallback needs while Redis is gone.
      logger.debug({ err: error }, 'rate-limit heartbeat failed; keeping the last live instance count');
    } finally {
      beating = false;
    }
  }

  function current(): number {
    return liveCountInForce(floor, reported, settlingSince === undefined ? 0 : now() - settlingSince, ttlMs);
  }

  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  const onReady = (): void => {
    floor = current();
    settlingSince = undefined;
    void beat();
  };
  redis.on('ready', onReady);
  if (redis.status === 'ready') void beat();

  return {
    current,
    beat,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      redis.off('ready', onReady);
      if (redis.status !== 'ready') return;
      await withDeadline(redis.zrem(key, member), options.commandTimeoutMs).catch(() => undefined);
    },
  };
}
