/**
 * Retries may add at most `ratio` of the traffic of the last window (plus a small floor so a
 * quiet gateway can still retry). During an outage every first attempt fails, so an unbounded
 * "retry once" would double the load on a subgraph that is already down.
 */
export interface RetryBudget {
  /** Record a first attempt. */
  onRequest(now?: number): void;
  /** True (and spends a token) when a retry is allowed now. */
  tryRetry(now?: number): boolean;
}

export interface RetryBudgetOptions {
  /** Retries per request allowed over the window. Default 0.1 (10 %). */
  ratio?: number;
  /** Retries always allowed per window. Default 5. */
  minPerWindow?: number;
  /** Window, ms. Default 10 000. */
  windowMs?: number;
}

export function createRetryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  const ratio = options.ratio ?? 0.1;
  const min = options.minPerWindow ?? 5;
  const windowMs = options.windowMs ?? 10_000;
  // Two half-windows give a sliding count without per-event storage.
  const half = windowMs / 2;
  let bucketStart = 0;
  let requests = [0, 0];
  let retries = [0, 0];
  function roll(now: number) {
    if (now - bucketStart >= half) {
      const steps = Math.floor((now - bucketStart) / half);
      if (steps >= 2) {
        requests = [0, 0];
        retries = [0, 0];
      } else {
        requests = [requests[1]!, 0];
        retries = [retries[1]!, 0];
      }
      bucketStart = now - ((now - bucketStart) % half);
    }
  }
  return {
    onRequest(now = Date.now()) {
      roll(now);
      requests[1]!++;
    },
    tryRetry(now = Date.now()) {
      roll(now);
      const allowed = Math.max(min, Math.floor((requests[0]! + requests[1]!) * ratio));
      if (retries[0]! + retries[1]! >= allowed) return false;
      retries[1]!++;
      return true;
    },
  };
}
