import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
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
  const rlDecisions = new Counter({
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
  const redisDuration = new Histogram({
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
  const redisErrors = new Counter({
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
