import type { HotKeyCache } from './hotKeys.ts';
import { fallbackShare } from './liveCount.ts';
import type { MemoryStore } from './memoryStore.ts';
import type { ModeTracker } from './modeTracker.ts';
import type { NamedRateLimitPolicy } from './policies.ts';
import type { RedisStore } from './redisStore.ts';
import type { RateLimitDecision } from './store.ts';
import { extend } from '../runtime/objects.ts';
import type {
  RateLimitFailMode,
  RateLimiterStats,
  RateLimitRejection,
  RateLimitResult,
  RateLimitSource,
} from './types.ts';

/** Retry-After for `failMode: 'closed'` rejections, ms: about when the next probe may succeed. */
export const DEFAULT_UNAVAILABLE_RETRY_AFTER_MS = 1_000;

export interface RouterOptions {
  readonly failMode: RateLimitFailMode;
  /** Instance count until `deps.liveInstances` knows better (and without it). */
  readonly expectedInstances: number;
  /** Retry-After of `failMode: 'closed'` rejections, ms. */
  readonly unavailableRetryAfterMs: number;
}

export interface RouterDeps {
  /** This instance's buckets: memory mode and the fallback. */
  readonly local: MemoryStore;
  /** Buckets shared through Redis; undefined in memory mode. */
  readonly shared: RedisStore | undefined;
  readonly hotKeys: HotKeyCache;
  /** The mode to route by; told when a Redis update fails. */
  readonly mode: Pick<ModeTracker, 'mode' | 'epoch' | 'redisFailed'>;
  /**
   * The last live instance count (heartbeats); the local fallback limits each instance at
   * max(1, floor(limit / it)). Default: `expectedInstances`.
   */
  readonly liveInstances?: () => number;
  /** Monotonic clock, ms. */
  readonly now: () => number;
  /** Duration and outcome of each bucket update sent to Redis. */
  onRedisCommand(seconds: number, ok: boolean): void;
}

export interface Router {
  /**
   * Charge `cost` whole units to `bucketId` under `policy`, where the current mode says. With
   * `maxDelayMs` > 0 a request whose units come back within that delay is admitted by reservation
   * (`waitMs` > 0).
   */
  decide(bucketId: string, policy: NamedRateLimitPolicy, cost: number, maxDelayMs?: number): Promise<RateLimitResult>;
  /** Give back what `result` (a reservation) charged, to the store that charged it. Never rejects. */
  refund(result: RateLimitResult, cost: number): Promise<void>;
  stats(): RateLimiterStats;
}

/**
 * Where one decision is made: Redis (through the hot-key cache), this instance's buckets, or
 * nowhere (`failMode: 'closed'` while Redis is gone). A failed Redis update falls back for that
 * request too, and tells the mode tracker.
 */
export function createRouter(options: RouterOptions, deps: RouterDeps): Router {
  const { local, shared, hotKeys, mode, now } = deps;
  const { failMode, expectedInstances, unavailableRetryAfterMs } = options;
  const counters = { redisCalls: 0, redisErrors: 0, avoidedRedisCalls: 0, fallbackDecisions: 0 };

  function localDecision(
    bucketId: string,
    policy: NamedRateLimitPolicy,
    cost: number,
    source: RateLimitSource,
    maxDelayMs: number,
  ): RateLimitResult {
    if (cost > policy.limit) return costTooHigh(bucketId, policy);
    const decision = local.consumeSync(bucketId, policy, cost, maxDelayMs);
    return resultOf(decision, policy, bucketId, source);
  }

  function fallbackDecision(bucketId: string, policy: NamedRateLimitPolicy, cost: number, maxDelayMs: number): RateLimitResult {
    counters.fallbackDecisions++;
    if (failMode === 'closed') {
      return {
        allowed: false,
        limit: policy.limit,
        remaining: 0,
        resetMs: 0,
        retryAfterMs: unavailableRetryAfterMs,
        waitMs: 0,
        tier: policy.name,
        bucketId,
        policy,
        source: 'unavailable',
        rejection: 'limiter-unavailable',
      };
    }
    const share = extend(policy, { limit: fallbackShare(policy.limit, deps.liveInstances?.() ?? expectedInstances) });
    return localDecision(bucketId, share, cost, 'local-fallback', maxDelayMs);
  }

  async function sharedDecision(
    store: RedisStore,
    bucketId: string,
    policy: NamedRateLimitPolicy,
    cost: number,
    maxDelayMs: number,
  ): Promise<RateLimitResult> {
    if (cost > policy.limit) return costTooHigh(bucketId, policy);
    const blocked = hotKeys.blockedFor(bucketId, cost);
    // A queueing caller may still get a reservation when the units come back within its delay.
    if (blocked && blocked.retryAfterMs > maxDelayMs) {
      counters.avoidedRedisCalls++;
      return {
        allowed: false,
        limit: blocked.limit,
        remaining: 0,
        resetMs: blocked.retryAfterMs,
        retryAfterMs: blocked.retryAfterMs,
        waitMs: 0,
        tier: policy.name,
        bucketId,
        policy,
        source: 'hot-key-cache',
        rejection: 'quota',
      };
    }
    const startedEpoch = mode.epoch();
    const started = now();
    counters.redisCalls++;
    try {
      const decision = await store.consume(bucketId, policy, cost, maxDelayMs);
      deps.onRedisCommand((now() - started) / 1_000, true);
      if (!decision.allowed) hotKeys.block(bucketId, cost, decision.limit, decision.retryAfterMs);
      return resultOf(decision, policy, bucketId, 'redis');
    } catch (error) {
      counters.redisErrors++;
      deps.onRedisCommand((now() - started) / 1_000, false);
      mode.redisFailed(startedEpoch, error);
      // Answer this request locally too: it has already spent its Redis budget.
      return fallbackDecision(bucketId, policy, cost, maxDelayMs);
    }
  }

  function costTooHigh(bucketId: string, policy: NamedRateLimitPolicy): RateLimitResult {
    // No amount of waiting admits it; say so instead of charging or caching anything.
    const current = mode.mode();
    return {
      allowed: false,
      limit: policy.limit,
      remaining: 0,
      resetMs: 0,
      retryAfterMs: policy.windowMs,
      waitMs: 0,
      tier: policy.name,
      bucketId,
      policy,
      source: current === 'redis' ? 'redis' : current === 'memory' ? 'memory' : 'local-fallback',
      rejection: 'cost-exceeds-limit',
    };
  }

  async function decide(bucketId: string, policy: NamedRateLimitPolicy, cost: number, maxDelayMs = 0): Promise<RateLimitResult> {
    const current = mode.mode();
    switch (current) {
      case 'memory':
        return localDecision(bucketId, policy, cost, 'memory', maxDelayMs);
      case 'redis':
        return shared ? await sharedDecision(shared, bucketId, policy, cost, maxDelayMs) : fallbackDecision(bucketId, policy, cost, maxDelayMs);
      case 'local-fallback':
        return fallbackDecision(bucketId, policy, cost, maxDelayMs);
      default: {
        const exhaustive: never = current;
        throw new Error(`unknown rate limiter mode ${String(exhaustive)}`);
      }
    }
  }

  async function refund(result: RateLimitResult, cost: number): Promise<void> {
    if (result.source === 'redis' && shared) {
      // A lost refund costs the client `cost` units, nothing more; Redis trouble is the tracker's.
      await shared.refund(result.bucketId, result.policy, cost).catch(() => undefined);
      // The next caller here must ask Redis, not a remembered rejection (other instances may
      // still answer one from theirs for at most the hot-key cap, 1 s).
      hotKeys.unblock(result.bucketId);
    } else if (result.source === 'memory' || result.source === 'local-fallback') {
      local.refundSync(result.bucketId, result.policy, cost);
    }
  }

  return { decide, refund, stats: () => ({ ...counters }) };
}

function rejectionOf(decision: RateLimitDecision): RateLimitRejection | undefined {
  return decision.allowed ? undefined : 'quota';
}

/** A store's decision with what routing adds, written out field by field (per request: src/runtime/objects.ts says why). */
function resultOf(decision: RateLimitDecision, policy: NamedRateLimitPolicy, bucketId: string, source: RateLimitSource): RateLimitResult {
  return {
    allowed: decision.allowed,
    limit: decision.limit,
    remaining: decision.remaining,
    resetMs: decision.resetMs,
    retryAfterMs: decision.retryAfterMs,
    waitMs: decision.waitMs,
    tier: policy.name,
    bucketId,
    policy,
    source,
    rejection: rejectionOf(decision),
  };
}
