import { Gauge, type Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast.ts';
import type { RateLimitQueueMetrics } from '../rateLimit/queue.ts';
import type { RateLimiterMetrics, RateLimiterMode, RateLimitResult } from '../rateLimit/types.ts';
import { cappedLabel } from './labels.ts';

/** Redis bucket updates: 0.25 ms … 100 ms; the command budget is 50 ms. */
export const REDIS_DURATION_BUCKETS_S = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];
/**
 * Distinct rate-limit tiers kept as label values; later ones count as `other`. Tiers come from
 * the policy set (3 built in), but runtime overrides may add some: this bounds the worst case.
 */
export const MAX_TIER_LABELS = 32;

const LIMITER_MODES: readonly RateLimiterMode[] = ['redis', 'local-fallback', 'memory'];

/** `decision` label of `portico_ratelimit_decisions_total`. */
export type RateLimitDecisionLabel = 'allowed' | 'rejected' | 'unavailable';

export function rateLimitDecisionLabel(result: Pick<RateLimitResult, 'allowed' | 'rejection'>): RateLimitDecisionLabel {
  if (result.allowed) return 'allowed';
  return result.rejection === 'limiter-unavailable' ? 'unavailable' : 'rejected';
}

/** Rate-limit decisions, the limiter's mode and its Redis round trips: the `metrics` dep of `createRateLimiter`. */
export function createRateLimitMetrics(registers: Registry[]): RateLimiterMetrics {
  const tierLabel = cappedLabel(MAX_TIER_LABELS, 'other');
  const rlDecisions = new FastCounter({
    name: 'portico_ratelimit_decisions_total',
    help: 'Rate-limit decisions, by tier and decision (allowed, rejected over quota, unavailable: limiter could not decide and failMode is closed).',
    labelNames: ['tier', 'decision'] as const,
    registers,
  });
  const rlMode = new Gauge({
    name: 'portico_ratelimit_mode',
    help: 'Rate limiter mode: 1 for the current one (redis: shared; local-fallback: Redis unreachable, per-instance limits; memory: no Redis configured).',
    labelNames: ['mode'] as const,
    registers,
  });
  const redisDuration = new FastHistogram({
    name: 'portico_redis_command_duration_seconds',
    help: 'Duration of rate-limit bucket updates sent to Redis (successful or not), s.',
    buckets: REDIS_DURATION_BUCKETS_S,
    registers,
  });
  const liveInstances = new Gauge({
    name: 'portico_ratelimit_live_instances',
    help: 'Gateway instances this one divides each quota by in the local fallback: the live count seen through Redis heartbeats (PORTICO_RATE_LIMIT_INSTANCES until one answered).',
    registers,
  });
  const redisErrors = new FastCounter({
    name: 'portico_redis_errors_total',
    help: 'Rate-limit bucket updates that failed or exceeded their time budget.',
    registers,
  });

  // An absent limiter reads as "not in fallback" rather than "no data".
  for (const mode of LIMITER_MODES) rlMode.set({ mode }, 0);
  redisErrors.inc(0);

  return {
    onDecision(tier, decision) {
      rlDecisions.inc({ tier: tierLabel(tier), decision: rateLimitDecisionLabel(decision) });
    },
    onModeChange(mode) {
      for (const m of LIMITER_MODES) rlMode.set({ mode: m }, m === mode ? 1 : 0);
    },
    onLiveInstances(count) {
      liveInstances.set(count);
    },
    onRedisCommand(seconds, ok) {
      redisDuration.observe(seconds);
      if (!ok) redisErrors.inc();
    },
  };
}

/** Waits in the rate-limit queue: 10 ms … 10 s (maxWait is capped at 60 s, premium's default is 2 s). */
export const QUEUE_WAIT_BUCKETS_S = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

/** Queueing for quota (premium's maxWait): the `metrics` dep of `createRateLimitQueue`. */
export function createRateLimitQueueMetrics(registers: Registry[]): RateLimitQueueMetrics {
  const tierLabel = cappedLabel(MAX_TIER_LABELS, 'other');
  const queued = new FastCounter({
    name: 'portico_ratelimit_queued_total',
    help: 'Requests over their quota admitted by reservation: they waited in the queue for their next unit instead of a 429, by tier.',
    labelNames: ['tier'] as const,
    registers,
  });
  const waited = new FastHistogram({
    name: 'portico_ratelimit_queue_wait_seconds',
    help: 'How long queued requests waited for their turn, s, by tier.',
    labelNames: ['tier'] as const,
    buckets: QUEUE_WAIT_BUCKETS_S,
    registers,
  });
  const dropped = new FastCounter({
    name: 'portico_ratelimit_queue_dropped_total',
    help: 'Requests of a queueing tier that did not get their turn, by tier and reason (full: the queue had no room, 429; wait-too-long: the next unit was further than maxWait or the deadline, 429; client-gone: the client left while queued, its units given back).',
    labelNames: ['tier', 'reason'] as const,
    registers,
  });
  const depth = new Gauge({
    name: 'portico_ratelimit_queue_depth',
    help: 'Requests waiting in the rate-limit queue on this instance now, by tier.',
    labelNames: ['tier'] as const,
    registers,
  });
  return {
    declareTier(tier) {
      const t = tierLabel(tier);
      queued.inc({ tier: t }, 0);
      depth.set({ tier: t }, 0);
      for (const reason of ['full', 'wait-too-long', 'client-gone'] as const) dropped.inc({ tier: t, reason }, 0);
    },
    onQueued: (tier) => queued.inc({ tier: tierLabel(tier) }),
    onWaited: (tier, seconds) => waited.observe({ tier: tierLabel(tier) }, seconds),
    onDropped: (tier, reason) => dropped.inc({ tier: tierLabel(tier), reason }),
    onDepth: (tier, n) => depth.set({ tier: tierLabel(tier) }, n),
  };
}
