import type { Logger } from 'pino';
import { HotKeyCache, DEFAULT_HOT_KEY_MAX_BLOCK_MS } from './hotKeys.ts';
import { MemoryStore, DEFAULT_MEMORY_STORE_MAX_BUCKETS } from './memoryStore.ts';
import {
  DEFAULT_FALLBACK_TIER,
  DEFAULT_RATE_LIMIT_POLICIES,
  parsePoliciesDocument,
  policyForTier,
  validatePolicies,
  type NamedRateLimitPolicy,
  type RateLimitPolicies,
} from './policies.ts';
import { DEFAULT_POLICY_POLL_INTERVAL_MS, RATE_LIMIT_POLICIES_KEY } from './policySource.ts';
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS, redisAddress, type RedisClient } from '../redis/client.ts';
import { withDeadline } from '../redis/deadline.ts';
import { RATE_LIMIT_KEY_PREFIX, RedisStore } from './redisStore.ts';
import type { RateLimitDecision } from './store.ts';
import type { RateLimitSubject } from './subject.ts';

/**
 * - `redis`: buckets shared by all instances (exact limits).
 * - `local-fallback`: Redis is configured but unreachable (or not yet connected); each instance
 *   limits on its own at limit / expectedInstances (`failMode: 'open'`) or rejects (`'closed'`).
 * - `memory`: no Redis configured; each instance limits on its own at the full limit.
 */
export type RateLimiterMode = 'redis' | 'local-fallback' | 'memory';

/**
 * What to do while Redis is configured but unreachable.
 * - `open` (default): keep serving, limited per instance at limit / expectedInstances, so the
 *   fleet as a whole stays near the real quota. Losing Redis never fails traffic.
 * - `closed`: reject every request with 503 `RATE_LIMITER_UNAVAILABLE` until Redis is back. For
 *   deployments where an unenforced quota costs more than an outage.
 */
export type RateLimitFailMode = 'open' | 'closed';

/** Where a decision came from. */
export type RateLimitSource = 'redis' | 'hot-key-cache' | 'local-fallback' | 'memory' | 'unavailable';

/** Why a request was rejected. */
export type RateLimitRejection = 'quota' | 'cost-exceeds-limit' | 'limiter-unavailable';

export interface RateLimitResult extends RateLimitDecision {
  /** Tier whose policy was applied (unknown tiers are mapped to the fallback tier). */
  readonly tier: string;
  /** Bucket id: `<tier>:<subject key>`. */
  readonly bucketId: string;
  /**
   * Policy actually enforced: the tier's own, or limit / expectedInstances in local fallback.
   * What the `RateLimit-Policy` header advertises.
   */
  readonly policy: NamedRateLimitPolicy;
  readonly source: RateLimitSource;
  /** Set when `allowed` is false. */
  readonly rejection: RateLimitRejection | undefined;
}

export interface RateLimiterStats {
  /** Bucket updates sent to Redis. */
  readonly redisCalls: number;
  /** Of those, failed or timed out. */
  readonly redisErrors: number;
  /** Requests answered by the hot-key cache instead of Redis. */
  readonly avoidedRedisCalls: number;
  /** Requests decided while in `local-fallback`. */
  readonly fallbackDecisions: number;
}

/** The fleet size in ARCHITECTURE.md: each instance gets a third of a quota while Redis is gone. */
export const DEFAULT_EXPECTED_INSTANCES = 3;
/**
 * How often a limiter in fallback checks that Redis answers again, ms. With ioredis reconnecting
 * within 2 s, shared limiting resumes about 3 s after Redis does at worst.
 */
export const DEFAULT_PROBE_INTERVAL_MS = 1_000;
/** Retry-After for `failMode: 'closed'` rejections, ms: about when the next probe may succeed. */
export const DEFAULT_UNAVAILABLE_RETRY_AFTER_MS = 1_000;

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
   * Gateway instances sharing the quota; the local fallback limits each at
   * max(1, floor(limit / expectedInstances)). Default `DEFAULT_EXPECTED_INSTANCES` (3).
   */
  readonly expectedInstances?: number;
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
}

/** Hooks for the metrics module; labels stay bounded (tier names come from the policy set). */
export interface RateLimiterMetrics {
  onDecision(tier: string, decision: RateLimitResult): void;
  onModeChange(mode: RateLimiterMode): void;
  /** Duration and outcome of each bucket update sent to Redis (not probes or policy polls). */
  onRedisCommand(seconds: number, ok: boolean): void;
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
  check(subject: RateLimitSubject, cost?: number): Promise<RateLimitResult>;
  mode(): RateLimiterMode;
  /** The policies in force: configured, with runtime overrides applied. */
  policies(): RateLimitPolicies;
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

type State =
  | { readonly kind: 'memory' }
  | { readonly kind: 'redis' }
  | { readonly kind: 'local-fallback'; readonly reason: string }
  | { readonly kind: 'closed'; readonly last: RateLimiterMode };

const NO_METRICS: RateLimiterMetrics = { onDecision() {}, onModeChange() {}, onRedisCommand() {} };

/**
 * Rate limiter with exact shared limits through Redis and a loud, bounded local fallback.
 * Start-up never waits for Redis: until the first successful probe it serves from the fallback.
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
  const policiesKey = options.policiesKey ?? RATE_LIMIT_POLICIES_KEY;
  const unavailableRetryAfterMs = options.unavailableRetryAfterMs ?? DEFAULT_UNAVAILABLE_RETRY_AFTER_MS;
  const fallbackTier = options.fallbackTier ?? DEFAULT_FALLBACK_TIER;

  const configured = validatePolicies({ ...DEFAULT_RATE_LIMIT_POLICIES, ...options.policies });
  if (!Object.hasOwn(configured, fallbackTier)) {
    const tiers = Object.keys(configured).join(', ');
    throw new Error(`rate-limit fallbackTier "${fallbackTier}" has no policy (tiers: ${tiers})`);
  }
  // Overrides may add or change tiers but never remove one, so the fallback tier always resolves.
  let effective: RateLimitPolicies = configured;
  let lastDocument: string | null = null;

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

  // Waiting for the first connection is not a failure: it starts in fallback without a warning.
  let state: State = !shared
    ? { kind: 'memory' }
    : redis?.status === 'ready'
      ? { kind: 'redis' }
      : { kind: 'local-fallback', reason: 'connecting' };
  // Bumped on every mode change: a Redis failure that started before the last change (e.g. a
  // command sent before Redis froze, answered after it came back) must not flip the mode again.
  let epoch = 0;
  const counters = { redisCalls: 0, redisErrors: 0, avoidedRedisCalls: 0, fallbackDecisions: 0 };
  const timers: NodeJS.Timeout[] = [];
  let probing = false;
  let polling = false;

  function mode(): RateLimiterMode {
    return state.kind === 'closed' ? state.last : state.kind;
  }

  function describe(): string {
    if (!redis) {
      return (
        'rate limits: in-process memory store (no Redis configured, PORTICO_REDIS_URL): ' +
        'each instance enforces the full quota on its own'
      );
    }
    const onFailure =
      failMode === 'open'
        ? `falls back to per-instance limits at 1/${expectedInstances} of each quota`
        : 'rejects requests (503) while Redis is unreachable';
    const where = `${redisAddress(redis)} (command timeout ${commandTimeoutMs} ms)`;
    return `rate limits: shared through Redis at ${where}; ${onFailure}`;
  }

  function setState(next: State, reason: string, error?: unknown): void {
    state = next;
    epoch++;
    const currentMode = mode();
    const fields = { event: 'rate_limit_mode', mode: currentMode, reason, failMode, expectedInstances };
    if (currentMode === 'redis') logger.info(fields, 'rate limiting is shared through Redis');
    else {
      const effect = failMode === 'open' ? 'fell back to per-instance limits' : 'is rejecting requests (failMode closed)';
      logger.warn({ ...fields, err: error }, `rate limiting ${effect}: ${reason}`);
    }
    metrics.onModeChange(currentMode);
  }

  function enterFallback(startedEpoch: number, error: unknown): void {
    if (state.kind !== 'redis' || startedEpoch !== epoch) return;
    const reason = `Redis unavailable: ${error instanceof Error ? error.message : String(error)}`;
    setState({ kind: 'local-fallback', reason }, reason, error);
  }

  async function probe(): Promise<void> {
    if (!redis || state.kind !== 'local-fallback' || probing) return;
    // A lazily created client connects on first use; without an offline queue the limiter never
    // "uses" it while in fallback, so start the connection here.
    if (redis.status === 'wait') redis.connect().catch(() => {});
    if (redis.status !== 'ready') return;
    probing = true;
    const started = epoch;
    try {
      await withDeadline(redis.ping(), commandTimeoutMs);
      if (state.kind === 'local-fallback' && started === epoch) {
        setState({ kind: 'redis' }, 'Redis answers again');
        void pollPolicies();
      }
    } catch (error) {
      logger.debug({ err: error }, 'rate-limit Redis probe failed');
    } finally {
      probing = false;
    }
  }

  async function pollPolicies(): Promise<void> {
    if (!redis || redis.status !== 'ready' || polling) return;
    polling = true;
    try {
      const raw = await withDeadline(redis.get(policiesKey), commandTimeoutMs);
      applyDocument(raw);
    } catch (error) {
      logger.debug({ err: error }, 'rate-limit policy poll failed; keeping current policies');
    } finally {
      polling = false;
    }
  }

  function applyDocument(raw: string | null): void {
    // Only a changed document is applied, so a local setPolicies() holds until ops publish again,
    // and a bad document is logged once, not every poll.
    if (raw === lastDocument) return;
    lastDocument = raw;
    if (raw === null) {
      applyOverrides({}, 'redis (document removed)');
      return;
    }
    const parsed = parsePoliciesDocument(raw);
    if (!parsed.ok) {
      logger.warn(
        { event: 'rate_limit_policies_rejected', key: policiesKey, error: parsed.error },
        `ignored invalid rate-limit policy document at ${policiesKey}; keeping current policies`,
      );
      return;
    }
    applyOverrides(parsed.policies, 'redis');
  }

  function applyOverrides(overrides: RateLimitPolicies, source: string): void {
    effective = Object.freeze({ ...configured, ...overrides });
    // A cached rejection may be wrong under the new quota.
    hotKeys.clear();
    logger.info({ event: 'rate_limit_policies', source, policies: effective }, 'rate-limit policies updated');
  }

  function localDecision(
    bucketId: string,
    policy: NamedRateLimitPolicy,
    cost: number,
    source: RateLimitSource,
  ): RateLimitResult {
    if (cost > policy.limit) return costTooHigh(bucketId, policy);
    const decision = local.consumeSync(bucketId, policy, cost);
    return { ...decision, tier: policy.name, bucketId, policy, source, rejection: rejectionOf(decision) };
  }

  function fallbackDecision(bucketId: string, policy: NamedRateLimitPolicy, cost: number): RateLimitResult {
    counters.fallbackDecisions++;
    if (failMode === 'closed') {
      return {
        allowed: false,
        limit: policy.limit,
        remaining: 0,
        resetMs: 0,
        retryAfterMs: unavailableRetryAfterMs,
        tier: policy.name,
        bucketId,
        policy,
        source: 'unavailable',
        rejection: 'limiter-unavailable',
      };
    }
    const share = { ...policy, limit: Math.max(1, Math.floor(policy.limit / expectedInstances)) };
    return localDecision(bucketId, share, cost, 'local-fallback');
  }

  async function sharedDecision(
    store: RedisStore,
    bucketId: string,
    policy: NamedRateLimitPolicy,
    cost: number,
  ): Promise<RateLimitResult> {
    if (cost > policy.limit) return costTooHigh(bucketId, policy);
    const blocked = hotKeys.blockedFor(bucketId, cost);
    if (blocked) {
      counters.avoidedRedisCalls++;
      return {
        allowed: false,
        limit: blocked.limit,
        remaining: 0,
        resetMs: blocked.retryAfterMs,
        retryAfterMs: blocked.retryAfterMs,
        tier: policy.name,
        bucketId,
        policy,
        source: 'hot-key-cache',
        rejection: 'quota',
      };
    }
    const startedEpoch = epoch;
    const started = now();
    counters.redisCalls++;
    try {
      const decision = await store.consume(bucketId, policy, cost);
      metrics.onRedisCommand((now() - started) / 1_000, true);
      if (!decision.allowed) hotKeys.block(bucketId, cost, decision.limit, decision.retryAfterMs);
      return { ...decision, tier: policy.name, bucketId, policy, source: 'redis', rejection: rejectionOf(decision) };
    } catch (error) {
      counters.redisErrors++;
      metrics.onRedisCommand((now() - started) / 1_000, false);
      enterFallback(startedEpoch, error);
      // Answer this request locally too: it has already spent its Redis budget.
      return fallbackDecision(bucketId, policy, cost);
    }
  }

  async function check(subject: RateLimitSubject, cost: number = 1): Promise<RateLimitResult> {
    if (!Number.isFinite(cost) || cost < 0) {
      throw new RangeError(`rate-limit cost must be a finite number >= 0, got ${cost}`);
    }
    const units = Math.ceil(cost);
    const policy = policyForTier(effective, subject.tier, fallbackTier)!;
    // The policy is part of the bucket: a changed quota (an operator raising an exhausted
    // client's limit, or applying an emergency cap) starts fresh counters under the new rule
    // instead of reinterpreting a state computed under the old one. Old buckets expire by TTL.
    const bucketId = `${policy.name}:${subject.key}:${policy.limit}/${policy.windowMs}`;
    let result: RateLimitResult;
    const current = state.kind === 'closed' ? state.last : state.kind;
    switch (current) {
      case 'memory':
        result = localDecision(bucketId, policy, units, 'memory');
        break;
      case 'redis':
        result = shared
          ? await sharedDecision(shared, bucketId, policy, units)
          : fallbackDecision(bucketId, policy, units);
        break;
      case 'local-fallback':
        result = fallbackDecision(bucketId, policy, units);
        break;
      default: {
        const exhaustive: never = current;
        throw new Error(`unknown rate limiter mode ${String(exhaustive)}`);
      }
    }
    metrics.onDecision(result.tier, result);
    return result;
  }

  function costTooHigh(bucketId: string, policy: NamedRateLimitPolicy): RateLimitResult {
    // No amount of waiting admits it; say so instead of charging or caching anything.
    return {
      allowed: false,
      limit: policy.limit,
      remaining: 0,
      resetMs: 0,
      retryAfterMs: policy.windowMs,
      tier: policy.name,
      bucketId,
      policy,
      source: mode() === 'redis' ? 'redis' : mode() === 'memory' ? 'memory' : 'local-fallback',
      rejection: 'cost-exceeds-limit',
    };
  }

  // Start-up: say which mode we are in, once, and start the background work.
  const startFields = { event: 'rate_limit_start', mode: mode(), failMode, expectedInstances };
  if (redis) logger.info(startFields, describe());
  else logger.warn(startFields, describe());
  metrics.onModeChange(mode());
  const onReady = (): void => {
    void probe();
    void pollPolicies();
  };
  if (redis) {
    redis.on('ready', onReady);
    if (redis.status === 'wait') redis.connect().catch(() => {});
    timers.push(setInterval(() => void probe(), probeIntervalMs));
    if (pollIntervalMs > 0) timers.push(setInterval(() => void pollPolicies(), pollIntervalMs));
    for (const t of timers) t.unref();
    if (redis.status === 'ready') void pollPolicies();
  }

  return {
    check,
    mode,
    describe,
    policies: () => effective,
    setPolicies(overrides) {
      applyOverrides(validatePolicies(overrides), 'api');
    },
    stats: () => ({ ...counters }),
    close() {
      if (state.kind !== 'closed') {
        state = { kind: 'closed', last: mode() };
        for (const t of timers) clearInterval(t);
        timers.length = 0;
        redis?.off('ready', onReady);
      }
      return Promise.resolve();
    },
  };
}

function rejectionOf(decision: RateLimitDecision): RateLimitRejection | undefined {
  return decision.allowed ? undefined : 'quota';
}
