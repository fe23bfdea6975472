/**
 * Slow-call accounting for one breaker key, in the manner of resilience4j's slow-call rate:
 * the last {@link SlowCallWindow.capacity} calls (none older than the breaker window) and how
 * many of them were slow. Pure: the clock is passed in.
 *
 * Why a count-based window, when the failure rate uses opossum's 10 s time window: under steady
 * traffic a time window is full of the healthy calls made before a fault, so a subgraph that
 * starts hanging at 50 calls/s needs ~5 s of slow calls to reach 50 %. The last 20 calls turn
 * over in 0.4 s at that rate, so the rate follows what the subgraph does now; the age limit keeps
 * a quiet key from being judged on calls from long ago.
 */
export class SlowCallWindow {
  private readonly at: Float64Array;
  private readonly slowFlags: Uint8Array;
  /** Index of the oldest entry. */
  private head = 0;
  private size = 0;
  private slowCount = 0;

  constructor(
    /** Calls remembered, most recent first. */
    readonly capacity: number,
    /** Calls older than this (ms) are forgotten. */
    readonly maxAgeMs: number,
  ) {
    this.at = new Float64Array(capacity);
    this.slowFlags = new Uint8Array(capacity);
  }

  /** Records one call's outcome at `now` (ms): slow or not. */
  record(now: number, slow: boolean): void {
    if (this.size === this.capacity) this.dropOldest();
    const i = (this.head + this.size) % this.capacity;
    this.at[i] = now;
    this.slowFlags[i] = slow ? 1 : 0;
    this.size++;
    if (slow) this.slowCount++;
  }

  /** Calls and slow calls within the age limit at `now`. */
  counts(now: number): { calls: number; slow: number } {
    const oldest = now - this.maxAgeMs;
    while (this.size > 0 && (this.at[this.head] as number) < oldest) this.dropOldest();
    return { calls: this.size, slow: this.slowCount };
  }

  /** Forgets every call (a breaker that closes starts on fresh evidence). */
  clear(): void {
    this.head = 0;
    this.size = 0;
    this.slowCount = 0;
  }

  private dropOldest(): void {
    if (this.slowFlags[this.head] === 1) this.slowCount--;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
  }
}

/**
 * Whether the slow calls in `counts` should open a closed breaker: at least `minimumCalls`
 * recorded (one slow call at low traffic never trips it) and a slow share of at least
 * `slowPercent`.
 */
export function slowRateExceeded(counts: { calls: number; slow: number }, minimumCalls: number, slowPercent: number): boolean {
  return counts.calls >= minimumCalls && counts.slow * 100 >= slowPercent * counts.calls;
}
