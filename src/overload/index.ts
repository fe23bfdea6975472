/**
 * Priority load shedding: the pure decision (`decision.ts`), the adaptive in-flight limit
 * (`limit.ts`, pure), this instance's load (`monitor.ts`) and the Fastify gate that applies
 * them (`gate.ts`). `server.ts` needs only `createOverloadGate`.
 */
export {
  createOverloadGate,
  DEFAULT_OVERLOAD_EVENT_LOOP_DELAY_MS,
  DEFAULT_OVERLOAD_MAX_IN_FLIGHT,
  DEFAULT_OVERLOAD_STANDING_DELAY_MS,
  DEFAULT_OVERLOAD_TIER_ORDER,
  OVERLOAD_RETRY_AFTER_S,
  type OverloadGate,
  type OverloadGateOptions,
  type OverloadMetrics,
  type OverloadSnapshot,
} from './gate.ts';
export { ACTIVE_WINDOW_MS, HOLD_MS, HYSTERESIS, isShed, nextShedState, NO_SHEDDING, type ShedState, pressureOf, rankOf, shedLevel, shedPointOf, TIER_STEP, type OverloadSignals, type OverloadThresholds } from './decision.ts';
export { LEAST_CUT, MAX_CUT, MIN_ADAPTIVE_LIMIT, nextAdaptiveLimit, NO_ADAPTIVE_LIMIT, NO_LIMIT, WINDOWS_AFTER_CUT, type AdaptiveLimitState, type LimitReading } from './limit.ts';
export { createOverloadMonitor, type OverloadMonitor } from './monitor.ts';
