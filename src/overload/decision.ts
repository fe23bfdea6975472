/**
 * The pure part of priority load shedding: how loaded this instance is, and which tiers it sheds
 * at that load. No clock, no I/O; `monitor.ts` measures, `gate.ts` applies.
 *
 * Pressure is the worst of the signals, each as a fraction of its threshold: 1.0 means one
 * signal is exactly at its threshold. By default the one that acts is the in-flight count
 * against the adaptive limit (`limit.ts`); the fixed thresholds are optional extra signals.
 * Tiers are ranked lowest priority first (default anonymous, free, premium); the tier of rank i
 * is shed from pressure 1 + i × {@link TIER_STEP}, so the lowest tier goes first, at the
 * threshold itself, and premium last, at twice it (three tiers), and only while a higher tier
 * has requests to serve instead ({@link isShed}). Shedding the lower tiers is
 * what brings the pressure back down, so premium is normally never reached.
 */

/** Pressure between the shedding points of two successive tiers. */
export const TIER_STEP = 0.5;

/**
 * A shed tier is admitted again only once the pressure is this fraction below its shedding point:
 * without it, a signal hovering at the point would flip the tier in and out on every sample.
 */
export const HYSTERESIS = 0.9;

export interface OverloadThresholds {
  /** Mean event-loop delay over the last sample window at which shedding starts, ms; 0 = not used. */
  readonly eventLoopDelayMs: number;
  /** Requests in flight on this instance at which shedding starts; 0 = not used. */
  readonly maxInFlight: number;
}

export interface OverloadSignals {
  /** Mean event-loop delay over the last sample window, ms. */
  readonly eventLoopDelayMs: number;
  /** Requests admitted past the gate and not yet answered. */
  readonly inFlight: number;
  /** Standing event-loop delay (least lag of any tick, sustained), ms: what the adaptive limit acts on. */
  readonly standingDelayMs: number;
  /** The adaptive in-flight limit learned so far; `NO_LIMIT` (Infinity, `limit.ts`) before any overload or when off. */
  readonly adaptiveLimit: number;
}

/** The worst signal as a fraction of its threshold; 0 when no threshold is set and no limit learned. */
export function pressureOf(signals: OverloadSignals, thresholds: OverloadThresholds): number {
  const delay = thresholds.eventLoopDelayMs > 0 ? signals.eventLoopDelayMs / thresholds.eventLoopDelayMs : 0;
  const inFlight = thresholds.maxInFlight > 0 ? signals.inFlight / thresholds.maxInFlight : 0;
  const adaptive = Number.isFinite(signals.adaptiveLimit) && signals.adaptiveLimit > 0 ? signals.inFlight / signals.adaptiveLimit : 0;
  return Math.max(delay, inFlight, adaptive);
}

/** Pressure from which the tier of `rank` (0 = lowest priority) is shed. */
export function shedPointOf(rank: number): number {
  return 1 + rank * TIER_STEP;
}

/**
 * How many of the lowest-ranked tiers are shed at `pressure`, given how many were shed before
 * (`previous`). Rises at once when a shedding point is reached; falls one tier at a time, only
 * once the pressure is below {@link HYSTERESIS} × that tier's point.
 */
export function shedLevel(pressure: number, tierCount: number, previous: number): number {
  let level = 0;
  while (level < tierCount && pressure >= shedPointOf(level)) level++;
  // Tiers shed before stay shed while the pressure is within the hysteresis band of their point.
  let keep = Math.min(previous, tierCount);
  while (keep > level && pressure < shedPointOf(keep - 1) * HYSTERESIS) keep--;
  return Math.max(level, keep);
}

/** How long a tier stays shed after the pressure was last at its point, ms: the Retry-After. */
export const HOLD_MS = 2_000;

/** Shedding state carried from one decision to the next. */
export interface ShedState {
  readonly level: number;
  /** When the pressure was last at the shedding point of each shed rank (index = rank), ms. */
  readonly lastAtPointMs: readonly number[];
}

export const NO_SHEDDING: ShedState = Object.freeze({ level: 0, lastAtPointMs: Object.freeze([]) as readonly number[] });

/**
 * {@link shedLevel} with a hold: a tier, once shed, stays shed for {@link HOLD_MS} after the
 * pressure was last at its point. Shedding a tier is what lowers the pressure, so without a hold
 * the tier would be let back in on the next reading and bring the overload back with it (a
 * sawtooth in which every tier suffers); the delay reading also lags by up to a second.
 */
export function nextShedState(pressure: number, tierCount: number, state: ShedState, nowMs: number): ShedState {
  const raw = shedLevel(pressure, tierCount, state.level);
  const last: number[] = [];
  for (let rank = 0; rank < tierCount; rank++) {
    last.push(rank < raw ? nowMs : (state.lastAtPointMs[rank] ?? Number.NEGATIVE_INFINITY));
  }
  let level = raw;
  while (level < tierCount && nowMs - last[level]! < HOLD_MS) level++;
  return { level, lastAtPointMs: last };
}

/**
 * Rank of a tier in `order` (lowest priority first). A tier not listed ranks lowest: an
 * unexpected tier never outranks the ones an operator chose to protect.
 */
export function rankOf(tier: string, order: readonly string[]): number {
  const i = order.indexOf(tier);
  return i < 0 ? 0 : i;
}

/**
 * How recently a higher tier must have sent a request for a lower one to be shed in its favour,
 * ms. Shedding is priority, not protection: with nobody of a higher tier to serve instead,
 * refusing a tier only loses its requests (an instance busy with anonymous traffic alone keeps
 * serving it, slower).
 */
export const ACTIVE_WINDOW_MS = 10_000;

/**
 * Whether a request of the tier of `rank` is shed at `level`: its rank is below the level, and
 * some higher rank sent a request within {@link ACTIVE_WINDOW_MS} (`lastSeenMs[rank]`: when each
 * rank last sent one). The highest tier present is never shed.
 */
export function isShed(rank: number, level: number, lastSeenMs?: readonly number[], nowMs?: number): boolean {
  if (rank >= level) return false;
  if (lastSeenMs === undefined || nowMs === undefined) return true;
  for (let higher = rank + 1; higher < lastSeenMs.length; higher++) {
    if (nowMs - (lastSeenMs[higher] ?? Number.NEGATIVE_INFINITY) <= ACTIVE_WINDOW_MS) return true;
  }
  return false;
}
