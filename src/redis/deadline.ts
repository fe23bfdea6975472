/** Raised when Redis did not answer within the command timeout. */
export class RedisCommandTimeoutError extends Error {
  // The code predates the client's move out of rateLimit/; log queries match on it.
  readonly code = 'RATE_LIMIT_REDIS_TIMEOUT';

  constructor(timeoutMs: number) {
    super(`Redis did not answer within ${timeoutMs} ms (PORTICO_REDIS_COMMAND_TIMEOUT_MS)`);
    this.name = 'RedisCommandTimeoutError';
  }
}

/**
 * `promise`, or a `RedisCommandTimeoutError` after `ms`. The loser's outcome is ignored.
 *
 * When the deadline fires, the verdict waits for one `setImmediate`: timers run before I/O in
 * each event-loop turn, so after a stall (GC, a CPU-heavy query plan) a reply that already sits
 * in the socket would otherwise be declared a timeout, and a healthy Redis would push the whole
 * instance into fallback. The immediate runs right after the I/O poll, so such replies win.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return;
        settled = true;
        reject(new RedisCommandTimeoutError(ms));
      });
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        reject(error);
      },
    );
  });
}
