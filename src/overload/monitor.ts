import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { OverloadSignals } from './decision.ts';
import { NO_ADAPTIVE_LIMIT, nextAdaptiveLimit } from './limit.ts';

/** Event-loop delay sampling: timer resolution and the window each reading covers. */
export const DEFAULT_DELAY_RESOLUTION_MS = 10;
export const DEFAULT_SAMPLE_WINDOW_MS = 500;

export interface OverloadMonitorOptions {
  /** Window each event-loop delay reading covers, ms. Default {@link DEFAULT_SAMPLE_WINDOW_MS}. */
  readonly sampleWindowMs?: number;
  /** Standing delay the adaptive limit keeps the loop under, ms (`limit.ts`); 0 = no adaptive limit. */
  readonly standingDelayTargetMs?: number;
}

/** This instance's own load: the event loop's delay and the requests it is working on. */
export interface OverloadMonitor {
  signals(): OverloadSignals;
  /** A request passed the gate; call `leave` once when its answer is final. */
  enter(): void;
  leave(): void;
  /** Stops sampling. Idempotent. */
  close(): void;
}

/**
 * Every window (Node's delay histogram, read and reset): the mean event-loop delay and the
 * standing delay (the least lag of any tick), each sustained over two windows (the lower of the
 * last two), and the in-flight count's mean and peak, from which the adaptive limit is updated
 * (`limit.ts`). The mean rather than a high percentile: one GC pause is not overload, a loop
 * that is late on every tick is. The delay readings lag by up to two windows, which is why the
 * in-flight count against a limit (instant) is what sheds.
 */
export function createOverloadMonitor(options: OverloadMonitorOptions = {}): OverloadMonitor {
  const windowMs = options.sampleWindowMs ?? DEFAULT_SAMPLE_WINDOW_MS;
  const targetMs = options.standingDelayTargetMs ?? 0;
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: DEFAULT_DELAY_RESOLUTION_MS });
  histogram.enable();
  let delayMs = 0;
  let previousMs = 0;
  let standingMs = 0;
  let previousStandingMs = 0;
  let limit = NO_ADAPTIVE_LIMIT;
  let inFlight = 0;
  // Time-weighted in-flight over the current window: area under the count, since `windowStart`.
  let windowStart = performance.now();
  let lastChange = windowStart;
  let area = 0;
  let peak = 0;
  const account = (now: number): void => {
    area += inFlight * (now - lastChange);
    lastChange = now;
  };
  const read = (): void => {
    // The histogram holds the resolution timer's actual periods: its own 10 ms is taken out. One
    // long block (a schema load, a major GC) is one sample among ~50 and barely moves the mean,
    // on purpose: it is not overload, and shedding every tier for it would be.
    const late = (ns: number): number => Math.max(0, ns / 1e6 - DEFAULT_DELAY_RESOLUTION_MS);
    const mean = histogram.count > 0 ? late(histogram.mean) : 0;
    const least = histogram.count > 0 ? late(histogram.min) : 0;
    histogram.reset();
    // Sustained over two windows (1 s): a warm-up burst (first plans, JIT) or one noisy second
    // on a shared host lifts one window; real overload lifts every window until load is shed.
    delayMs = Math.min(mean, previousMs);
    previousMs = mean;
    standingMs = Math.min(least, previousStandingMs);
    previousStandingMs = least;
    const now = performance.now();
    account(now);
    const meanInFlight = now > windowStart ? area / (now - windowStart) : inFlight;
    limit = nextAdaptiveLimit(limit, { standingDelayMs: standingMs, meanInFlight, peakInFlight: peak }, targetMs);
    windowStart = now;
    area = 0;
    peak = inFlight;
  };
  const timer = setInterval(read, windowMs);
  timer.unref();
  let closed = false;
  return {
    signals: () => ({ eventLoopDelayMs: delayMs, inFlight, standingDelayMs: standingMs, adaptiveLimit: limit.limit }),
    enter() {
      account(performance.now());
      inFlight++;
      if (inFlight > peak) peak = inFlight;
    },
    leave() {
      account(performance.now());
      inFlight = Math.max(0, inFlight - 1);
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      histogram.disable();
    },
  };
}
