import type { Logger } from 'pino';
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS, redisAddress, type RedisClient } from '../redis/client.ts';
import { HotKeyCache, DEFAULT_HOT_KEY_MAX_BLOCK_MS } from './hotKeys.ts';
import { createInstanceCount, INSTANCES_KEY, type InstanceCount } from './instances.ts';
import { MemoryStore, DEFAULT_MEMORY_STORE_MAX_BUCKETS } from './memoryStore.ts';
import { createModeTracker, DEFAULT_PROBE_INTERVAL_MS } from './modeTracker.ts';
import { DEFAULT_FALLBACK_TIER, validatePolicies, type NamedRateLimitPolicy, type RateLimitPolicies } from './policies.ts';
import { createPolicySource, DEFAULT_POLICY_POLL_INTERVAL_MS, RATE_LIMIT_POLICIES_KEY } from './policySource.ts';
import { RATE_LIMIT_KEY_PREFIX, RedisStore } from './redisStore.ts';
import { createRouter, DEFAULT_UNAVAILABLE_RETRY_AFTER_MS } from './routing.ts';
import type { RateLimitSubject } from './subject.ts';
import type {
  RateLimitFailMode,
  RateLimiterMetrics,
  RateLimiterMode,
  RateLimiterStats,
  RateLimitResult,
} from './types.ts';

/** The fleet size in ARCHITECTURE.md: each instance gets a third of a quota while Redis is gone. */
export const DEFAULT_EXPECTED_INSTANCES = 3;

export interface RateLimiterOptions {
  /**
   * Configured quotas by tier; tiers not listed keep `DEFAULT_RATE_LIMIT_POLICIES`. Runtime
   * overrides (Redis document, `setPolicies`) apply on top. Throws `RateLimitPolicyError` if invalid.
   */
  readonly policies?: RateLimitPolicies;
  /** Tier applied to subjects whose tier has no policy. Must exist. Default `'free'`. */
  readonly fallbackTier?: string;
  /** Behaviour while Redis is unreachable. Default `'open'`. */
  readonly failMode?: RateLimitFailMode;
  /**
   * Gateway instances sharing the quota, as known at start-up (PORTICO_RATE_LIMIT_INSTANCES). With
   * Redis, each instance then learns the live count from heartbeats (`instances.ts`), and the local
   * fallback limits it at max(1, floor(limit / last live count)); this value is used only until the
   * first heartbeat answers. Default `DEFAULT_EXPECTED_INSTANCES` (3).
   */
  readonly expectedInstances?: number;
  /** Heartbeat period, ms. Default `DEFAULT_HEARTBEAT_INTERVAL_MS` (1,000). */
  readonly heartbeatIntervalMs?: number;
  /** A silent instance stops counting after this long, ms. Default `DEFAULT_HEARTBEAT_TTL_MS` (3,000). */
  readonly heartbeatTtlMs?: number;
  /** Redis key of the heartbeat set. Default `'portico:instances'`. */
  readonly instancesKey?: string;
  /** Budget per Redis bucket update, ms. Default `DEFAULT_REDIS_COMMAND_TIMEOUT_MS` (50). */
  readonly commandTimeoutMs?: number;
  /** Interval between Redis health probes while in fallback, ms. Default 1,000. */
  readonly probeIntervalMs?: number;
  /** Interval between reads of the policy document, ms; 0 disables. Default 2,000. */
  readonly policyPollIntervalMs?: number;
  /** Cap on answering a rejected bucket locally, ms; 0 disables the hot-key cache. Default 1,000. */
  readonly hotKeyMaxBlockMs?: number;
  /** Bucket key namespace. Default `'portico:rl:'`. */
  readonly keyPrefix?: string;
  /** Redis key of the policy document. Default `'portico:rl:policies'`. */
  readonly policiesKey?: string;
  /** Most buckets held in process (memory mode and fallback). Default 100,000. */
  readonly maxLocalBuckets?: number;
  /** Retry-After of `failMode: 'closed'` rejections, ms. Default 1,000. */
  readonly unavailableRetryAfterMs?: number;
  /**
   * Cost quotas by tier (`free=200000cost/1d`): each request is also charged its estimated cost
   * against these, after parsing (see `checkCost`). Tiers not listed have none. Configured only:
   * runtime overrides change request quotas. Throws `RateLimitPolicyError` if invalid.
   */
  readonly costPolicies?: RateLimitPolicies;
}

/** How one check may queue. */
export interface CheckOptions {
  /**
   * Admit by reservation when the units come back within this delay, ms (`waitMs` on the
   * result says how long to wait). Default 0: reject, as without queueing.
   */
  readonly maxDelayMs?: number;
}

export interface RateLimiterDeps {
  readonly logger: Logger;
  /**
   * Shared Redis; undefined runs the in-process `memory` mode. Best built with
   * `createRedisClient`. Not closed by `close()`: the caller owns it.
   */
  readonly redis?: RedisClient | undefined;
  readonly metrics?: RateLimiterMetrics;
  /** Monotonic clock, ms. Default `performance.now`. */
  readonly now?: () => number;
}

export interface RateLimiter {
  /** Charge `cost` (default 1, rounded up) to the subject's bucket. Never rejects on Redis failure. */
  check(subject: RateLimitSubject, cost?: number, options?: CheckOptions): Promise<RateLimitResult>;
  /**
   * Charge `cost` units (rounded up) to the subject's cost bucket; undefined when its tier has
   * no cost quota. Never rejects on Redis failure.
   */
  checkCost(subject: RateLimitSubject, cost: number, options?: CheckOptions): Promise<RateLimitResult | undefined>;
  /** Give back what a reservation charged (its client left while it waited). Never rejects. */
  refund(result: RateLimitResult, cost: number): Promise<void>;
  /** The tier whose policy applies to `tier` (itself, or the fallback tier). */
  tierOf(tier: string): string;
  /** Cost quotas by tier (configured). */
  costPolicies(): RateLimitPolicies;
  mode(): RateLimiterMode;
  /** The policies in force: configured, with runtime overrides applied. */
  policies(): RateLimitPolicies;
  /**
   * Instances the local fallback divides each quota by: the last live count seen through Redis
   * heartbeats, or `expectedInstances` until one has answered (and always without Redis).
   */
  liveInstances(): number;
  /**
   * Replace this instance's runtime overrides (tiers listed win over configured ones) until the
   * Redis document next changes. Throws `RateLimitPolicyError` if invalid.
   */
  setPolicies(overrides: RateLimitPolicies): void;
  /** One line for the start-up log and the status page. */
  describe(): string;
  stats(): RateLimiterStats;
  /** Stops probes and polling. Idempotent. Leaves the Redis client to its owner. */
  close(): Promise<void>;
}

const NO_METRICS: RateLimiterMetrics = { onDecision() {}, onModeChange() {}, onRedisCommand() {} };

/**
 * Rate limiter with exact shared limits through Redis and a loud, bounded local fallback.
 * Start-up never waits for Redis: until the first successful probe it serves from the fallback.
 * The parts: which quotas (`policySource.ts`), which mode (`mode.ts`, `modeTracker.ts`), where a
 * decision is made (`routing.ts`); this factory wires them and runs the background work.
 */
export function createRateLimiter(options: RateLimiterOptions, deps: RateLimiterDeps): RateLimiter {
  const logger = deps.logger.child({ component: 'rateLimit' });
  const metrics = deps.metrics ?? NO_METRICS;
  const now = deps.now ?? (() => performance.now());
  const redis = deps.redis;
  const failMode = options.failMode ?? 'open';
  const expectedInstances = Math.max(
    1,
    Math.floor(options.expectedInstances ?? DEFAULT_EXPECTED_INSTANCES),
  );
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS;
  const probeIntervalMs = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
  const pollIntervalMs = options.policyPollIntervalMs ?? DEFAULT_POLICY_POLL_INTERVAL_MS;

  // First, so invalid policies throw before anything listens on the Redis client.
  const policies = createPolicySource(
    {
      policies: options.policies,
      fallbackTier: options.fallbackTier ?? DEFAULT_FALLBACK_TIER,
      policiesKey: options.policiesKey ?? RATE_LIMIT_POLICIES_KEY,
      commandTimeoutMs,
    },
    // A cached rejection may be wrong under the new quota.
    { logger, redis, onChange: () => hotKeys.clear() },
  );
  const local = new MemoryStore(
    { maxBuckets: options.maxLocalBuckets ?? DEFAULT_MEMORY_STORE_MAX_BUCKETS },
    { now },
  );
  const shared = redis
    ? new RedisStore({ keyPrefix: options.keyPrefix ?? RATE_LIMIT_KEY_PREFIX, commandTimeoutMs }, { redis })
    : undefined;
  const hotKeys = new HotKeyCache(
    { maxBlockMs: options.hotKeyMaxBlockMs ?? DEFAULT_HOT_KEY_MAX_BLOCK_MS },
    { now },
  );
  const instances: InstanceCount | undefined = redis
    ? createInstanceCount(
        {
          startCount: expectedInstances,
          commandTimeoutMs,
          key: options.instancesKey ?? INSTANCES_KEY,
          ...(options.heartbeatIntervalMs !== undefined ? { intervalMs: options.heartbeatIntervalMs } : {}),
          ...(options.heartbeatTtlMs !== undefined ? { ttlMs: options.heartbeatTtlMs } : {}),
        },
        { logger, redis, now, onChange: (n) => metrics.onLiveInstances?.(n) },
      )
    : undefined;
  const liveInstances = (): number => instances?.current() ?? expectedInstances;
  const tracker = createModeTracker(
    { failMode, expectedInstances, commandTimeoutMs },
    {
      logger,
      redis,
      liveInstances,
      onModeChange: (mode) => metrics.onModeChange(mode),
      onRecovered: () => void policies.poll(),
    },
  );
  const router = createRouter(
    {
      failMode,
      expectedInstances,
      unavailableRetryAfterMs: options.unavailableRetryAfterMs ?? DEFAULT_UNAVAILABLE_RETRY_AFTER_MS,
    },
    {
      local,
      shared,
      hotKeys,
      mode: tracker,
      liveInstances,
      now,
      onRedisCommand: (seconds, ok) => metrics.onRedisCommand(seconds, ok),
    },
  );
  const timers: NodeJS.Timeout[] = [];

  function describe(): string {
    if (!redis) {
      return (
        'rate limits: in-process memory store (no Redis configured, PORTICO_REDIS_URL): ' +
        'each instance enforces the full quota on its own'
      );
    }
    const onFailure =
      failMode === 'open'
        ? `falls back to per-instance limits at 1/${expectedInstances} of each quota until heartbeats ` +
          'in Redis give the live instance count, then 1/<last live count>'
        : 'rejects requests (503) while Redis is unreachable';
    const where = `${redisAddress(redis)} (command timeout ${commandTimeoutMs} ms)`;
    return `rate limits: shared through Redis at ${where}; ${onFailure}`;
  }

  const costPolicies = validatePolicies(options.costPolicies ?? {});

  function unitsOf(cost: number): number {
    if (!Number.isFinite(cost) || cost < 0) {
      throw new RangeError(`rate-limit cost must be a finite number >= 0, got ${cost}`);
    }
    return Math.ceil(cost);
  }

  async function decide(subject: RateLimitSubject, policy: NamedRateLimitPolicy, units: number, checkOptions: CheckOptions): Promise<RateLimitResult> {
    // The policy is part of the bucket: a changed quota (an operator raising an exhausted
    // client's limit, or applying an emergency cap) starts fresh counters under the new rule
    // instead of reinterpreting a state computed under the old one. Old buckets expire by TTL.
    // Cost buckets say so in their id, so they never share a key with the request bucket.
    const unit = policy.unit === 'cost' ? 'cost:' : '';
    const bucketId = `${policy.name}:${unit}${subject.key}:${policy.limit}/${policy.windowMs}`;
    const result = await router.decide(bucketId, policy, units, Math.max(0, checkOptions.maxDelayMs ?? 0));
    metrics.onDecision(result.tier, result);
    return result;
  }

  async function check(subject: RateLimitSubject, cost: number = 1, checkOptions: CheckOptions = {}): Promise<RateLimitResult> {
    const units = unitsOf(cost);
    return decide(subject, policies.policyFor(subject.tier), units, checkOptions);
  }

  async function checkCost(subject: RateLimitSubject, cost: number, checkOptions: CheckOptions = {}): Promise<RateLimitResult | undefined> {
    const units = unitsOf(cost);
    const tier = policies.policyFor(subject.tier).name;
    const own = Object.hasOwn(costPolicies, tier) ? costPolicies[tier] : undefined;
    if (!own) return undefined;
    return decide(subject, { name: tier, unit: 'cost', ...own }, units, checkOptions);
  }

  // Start-up: say which mode we are in, once, and start the background work.
  const startFields = { event: 'rate_limit_start', mode: tracker.mode(), failMode, expectedInstances };
  if (redis) logger.info(startFields, describe());
  else logger.warn(startFields, describe());
  metrics.onModeChange(tracker.mode());
  metrics.onLiveInstances?.(liveInstances());
  const onReady = (): void => {
    void tracker.probe();
    void policies.poll();
  };
  if (redis) {
    redis.on('ready', onReady);
    if (redis.status === 'wait') redis.connect().catch(() => {});
    timers.push(setInterval(() => void tracker.probe(), probeIntervalMs));
    if (pollIntervalMs > 0) timers.push(setInterval(() => void policies.poll(), pollIntervalMs));
    for (const t of timers) t.unref();
    if (redis.status === 'ready') void policies.poll();
  }

  return {
    check,
    checkCost,
    refund: (result, cost) => router.refund(result, unitsOf(cost)),
    tierOf: (tier) => policies.policyFor(tier).name,
    costPolicies: () => costPolicies,
    mode: tracker.mode,
    describe,
    policies: policies.policies,
    liveInstances,
    setPolicies(overrides) {
      policies.setOverrides(overrides);
    },
    stats: router.stats,
    async close() {
      if (tracker.close()) {
        for (const t of timers) clearInterval(t);
        timers.length = 0;
        redis?.off('ready', onReady);
        // Leaves the heartbeat set (ZREM sent synchronously, before the owner quits the client).
        await instances?.close();
      }
    },
  };
}
