/**
 * The adaptive in-flight limit: the default overload signal, learned from this instance's own
 * event loop so that no per-deployment capacity number is needed. Pure: `monitor.ts` feeds it
 * one reading per window, `decision.ts` turns `inFlight / limit` into pressure.
 *
 * CoDel's rule applied to the event loop's queue: the **standing delay** is the least lag any
 * timer tick saw over a window (the loop's "sojourn minimum"). A loop that goes idle even once
 * in the window reads ~0, however bursty the traffic, a GC pause or a crowded host that let the
 * instance keep up; a loop that never drained its queue for the whole window (sustained over
 * two windows, `monitor.ts`) reads the queue that stood there. Only a standing queue cuts the
 * limit, so a slow subgraph (many requests in flight, the loop idle) never does.
 *
 * The limit itself is AIMD with a gradient cut, after Netflix's concurrency-limits: a standing
 * delay above target cuts the limit to the concurrency that would have kept the delay at target
 * (the loop's delay grows with the requests it is working on, so mean in flight × target /
 * standing delay), by at most half, then held for {@link WINDOWS_AFTER_CUT} windows while the
 * readings catch up; with no standing queue and the limit in use, it grows by √limit per window
 * to find out whether more now fits. Until the first standing queue there is no limit at all:
 * an instance that never overloads never sheds.
 */

/** No limit learned yet: the in-flight count alone never sheds. */
export const NO_LIMIT = Number.POSITIVE_INFINITY;

/**
 * Least limit, and the least mean in flight a standing queue is blamed on. Below it an instance
 * cannot queue enough of its own work to hurt much (20 product pages at ~2.5 ms of CPU each is
 * 50 ms), while a queue it did not build (a blocking startup step, another job on the loop, or a
 * whole test suite's clients sharing the process on a crowded host: 12 clients in a closed loop
 * read 113 ms of standing delay there) would otherwise teach it a limit that refuses the few
 * requests any instance can serve.
 */
export const MIN_ADAPTIVE_LIMIT = 20;

/** A single window cuts the limit to at most this share: one odd reading cannot collapse it. */
export const MAX_CUT = 0.5;

/** A cut is always a cut: a standing delay just at target still takes 10 % off. */
export const LEAST_CUT = 0.9;

/**
 * Windows after a cut in which the limit is held: the standing delay is sustained over two
 * windows, so the effect of a cut shows only two windows later, and cutting again before then
 * would answer the same queue twice (the limit collapsing far below what the instance can do).
 */
export const WINDOWS_AFTER_CUT = 2;

/** The limit and how many windows ago it was last cut. */
export interface AdaptiveLimitState {
  readonly limit: number;
  readonly windowsSinceCut: number;
}

export const NO_ADAPTIVE_LIMIT: AdaptiveLimitState = Object.freeze({ limit: NO_LIMIT, windowsSinceCut: Number.POSITIVE_INFINITY });

/** One window's reading of the instance, as `monitor.ts` measures it. */
export interface LimitReading {
  /** Standing event-loop delay over the last windows, ms (least lag of any tick, sustained). */
  readonly standingDelayMs: number;
  /** Requests in flight, averaged over the window (time-weighted). */
  readonly meanInFlight: number;
  /** Most requests in flight at any moment of the window. */
  readonly peakInFlight: number;
}

/**
 * The limit after one window. `targetMs` is the standing delay the instance may carry (0: the
 * adaptive limit is off and the limit stays {@link NO_LIMIT}).
 */
export function nextAdaptiveLimit(state: AdaptiveLimitState, reading: LimitReading, targetMs: number): AdaptiveLimitState {
  if (targetMs <= 0) return NO_ADAPTIVE_LIMIT;
  const { limit } = state;
  const since = state.windowsSinceCut + 1;
  // Right after a cut: wait for the readings to show it.
  if (since <= WINDOWS_AFTER_CUT) return { limit, windowsSinceCut: since };
  if (reading.standingDelayMs >= targetMs) {
    // A queue the instance's own requests did not build is not cut into them.
    if (reading.meanInFlight < MIN_ADAPTIVE_LIMIT) return { limit, windowsSinceCut: since };
    const ratio = Math.min(LEAST_CUT, Math.max(MAX_CUT, targetMs / reading.standingDelayMs));
    return { limit: Math.max(MIN_ADAPTIVE_LIMIT, Math.min(limit, reading.meanInFlight) * ratio), windowsSinceCut: 0 };
  }
  // No standing queue: probe upwards, but only a limit that is being reached (an idle instance
  // keeps the limit its last overload taught it instead of growing it without evidence).
  if (limit !== NO_LIMIT && reading.peakInFlight >= limit / 2) return { limit: limit + Math.sqrt(limit), windowsSinceCut: since };
  return { limit, windowsSinceCut: since };
}
