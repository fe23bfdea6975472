import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { OverloadSignals } from './decision.ts';

/** Event-loop delay sampling: timer resolution and the window each reading averages over. */
export const DEFAULT_DELAY_RESOLUTION_MS = 10;
export const DEFAULT_SAMPLE_WINDOW_MS = 500;

export interface OverloadMonitorOptions {
  /** Window each event-loop delay reading averages over, ms. Default {@link DEFAULT_SAMPLE_WINDOW_MS}. */
  readonly sampleWindowMs?: number;
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
 * Mean event-loop delay, sustained: the lower of the last two windows' means (Node's histogram,
 * read and reset every window), and the in-flight count. The mean rather than a high percentile: one GC pause is not
 * overload, a loop that is late on every tick is. The reading lags by up to two windows, which
 * is why the in-flight count (instant) is the second signal.
 */
export function createOverloadMonitor(options: OverloadMonitorOptions = {}): OverloadMonitor {
  const windowMs = options.sampleWindowMs ?? DEFAULT_SAMPLE_WINDOW_MS;
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: DEFAULT_DELAY_RESOLUTION_MS });
  histogram.enable();
  let delayMs = 0;
  let inFlight = 0;
  let previousMs = 0;
  const read = (): void => {
    // The histogram holds the resolution timer's actual periods: its own 10 ms is taken out. One
    // long block (a schema load, a major GC) is one sample among ~50 and barely moves the mean,
    // on purpose: it is not overload, and shedding every tier for it would be.
    const mean = histogram.count > 0 ? Math.max(0, histogram.mean / 1e6 - DEFAULT_DELAY_RESOLUTION_MS) : 0;
    histogram.reset();
    // Sustained over two windows (1 s): a warm-up burst (first plans, JIT) or one noisy second
    // on a shared host lifts one window; real overload lifts every window until load is shed.
    delayMs = Math.min(mean, previousMs);
    previousMs = mean;
  };
  const timer = setInterval(read, windowMs);
  timer.unref();
  let closed = false;
  return {
    signals: () => ({ eventLoopDelayMs: delayMs, inFlight }),
    enter() {
      inFlight++;
    },
    leave() {
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
