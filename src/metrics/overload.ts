import { Gauge, type Registry } from 'prom-client';
import { FastCounter } from './fast.ts';
import type { OverloadMetrics, OverloadSnapshot } from '../overload/gate.ts';
import { cappedLabel } from './labels.ts';
import { MAX_TIER_LABELS } from './rateLimit.ts';

/**
 * Priority load shedding (src/overload/): what was shed, by tier, and the signals it was decided
 * on, read at scrape time. The `metrics` dep of `createOverloadGate`.
 */
export function createOverloadMetrics(registers: Registry[]): OverloadMetrics {
  const tierLabel = cappedLabel(MAX_TIER_LABELS, 'other');
  let read: (() => OverloadSnapshot) | undefined;
  const shed = new FastCounter({
    name: 'portico_overload_shed_total',
    help: 'Requests refused with 503 OVERLOADED because this instance was overloaded, by tier (lowest tiers are shed first).',
    labelNames: ['tier'] as const,
    registers,
  });
  new Gauge({
    name: 'portico_overload_event_loop_delay_seconds',
    help: 'Mean event-loop delay over the last sample window (500 ms), s: the first overload signal (PORTICO_OVERLOAD_EVENT_LOOP_DELAY_MS).',
    registers,
    collect() {
      this.set((read?.().eventLoopDelayMs ?? 0) / 1_000);
    },
  });
  new Gauge({
    name: 'portico_overload_in_flight_requests',
    help: 'GraphQL requests admitted past the overload gate and not yet answered: the second signal (PORTICO_OVERLOAD_MAX_IN_FLIGHT).',
    registers,
    collect() {
      this.set(read?.().inFlight ?? 0);
    },
  });
  new Gauge({
    name: 'portico_overload_standing_delay_seconds',
    help: 'Standing event-loop delay, s: the least lag of any tick over the last second (0 whenever the loop drained). Above PORTICO_OVERLOAD_STANDING_DELAY_MS it cuts the adaptive limit.',
    registers,
    collect() {
      this.set((read?.().standingDelayMs ?? 0) / 1_000);
    },
  });
  new Gauge({
    name: 'portico_overload_adaptive_limit',
    help: 'Adaptive in-flight limit learned from the standing delay: the lowest tier is shed from it, each next tier 0.5x later. 0 = no limit (no overload seen yet, or the adaptive limit is off).',
    registers,
    collect() {
      const limit = read?.().adaptiveLimit ?? Number.POSITIVE_INFINITY;
      this.set(Number.isFinite(limit) ? Math.round(limit * 10) / 10 : 0);
    },
  });
  new Gauge({
    name: 'portico_overload_pressure',
    help: 'The worst overload signal as a fraction of its threshold (in flight / adaptive limit by default): the lowest tier is shed from 1, each next tier 0.5 later.',
    registers,
    collect() {
      this.set(read?.().pressure ?? 0);
    },
  });
  new Gauge({
    name: 'portico_overload_shed_tiers',
    help: 'How many of the lowest-priority tiers this instance sheds now (0: none).',
    registers,
    collect() {
      this.set(read?.().shedTiers.length ?? 0);
    },
  });
  return {
    declareTiers(tiers) {
      for (const tier of tiers) shed.inc({ tier: tierLabel(tier) }, 0);
    },
    onShed: (tier) => shed.inc({ tier: tierLabel(tier) }),
    bind(next) {
      read = next;
    },
  };
}
