/**
 * GCRA (generic cell rate algorithm) in integer microseconds: the single source of truth for the
 * arithmetic. `MemoryStore` calls it directly; the Lua script in `redisStore.ts` is a line-by-line
 * port, and `test/unit/rateLimit/gcra.test.ts` pins both to the same numbers.
 *
 * A bucket is one number, its theoretical arrival time (TAT): the instant at which it would be
 * full again. Each admitted unit of cost pushes TAT forward by one emission interval; a request is
 * admitted while TAT stays within one burst of now. No counters, no window edges, one key.
 */

/** Integer parameters derived from a policy; the same values are sent to Redis as ARGV. */
export interface GcraParams {
  /** Time one unit of quota takes to come back, µs (window / limit, rounded down). */
  readonly intervalUs: number;
  /**
   * How far ahead of now TAT may run, µs: exactly `limit * intervalUs`, so a fresh bucket admits
   * exactly `limit` units at once even when window / limit is not a whole number of µs.
   */
  readonly burstUs: number;
}

/** What one GCRA step decided, plus the TAT to store (undefined when nothing must be written). */
export interface GcraOutcome {
  readonly allowed: boolean;
  /** Whole units still admissible right now after this decision, 0..limit. */
  readonly remaining: number;
  /** Until a request of the same cost would be admitted, µs; 0 when allowed. */
  readonly retryAfterUs: number;
  /** Until the bucket is full again (remaining = limit), µs. Also the key's TTL. */
  readonly resetUs: number;
  /** New TAT to persist with a TTL of `resetUs`; undefined when rejected or the bucket is full. */
  readonly newTatUs: number | undefined;
  /**
   * How long the admitted request must wait for its units, µs: 0 for an immediate admission,
   * at most `maxDelayUs` for a reservation (the units are charged now, for that future instant).
   */
  readonly waitUs: number;
}

const US_PER_MS = 1_000;

/**
 * Integer GCRA parameters for `limit` units per `windowMs`. Flooring the interval makes a full
 * window refill up to `limit` µs early, which is far below anything observable, while keeping
 * the burst exact.
 */
export function gcraParams(limit: number, windowMs: number): GcraParams {
  const intervalUs = Math.max(1, Math.floor((windowMs * US_PER_MS) / limit));
  return { intervalUs, burstUs: intervalUs * limit };
}

/**
 * One GCRA step. `storedTatUs` is the stored TAT (undefined for an absent or expired key).
 * Rejected requests consume nothing, so a client that keeps retrying is never pushed further out.
 *
 * `maxDelayUs` > 0 turns a rejection whose units come back within that delay into a reservation:
 * the units are charged now (TAT moves on, so the next caller queues behind), and `waitUs` says
 * exactly when they are this request's. GCRA knows that instant; nothing polls.
 */
export function gcraStep(
  storedTatUs: number | undefined,
  nowUs: number,
  params: GcraParams,
  cost: number,
  maxDelayUs: number = 0,
): GcraOutcome {
  const { intervalUs, burstUs } = params;
  const tat = storedTatUs === undefined || storedTatUs < nowUs ? nowUs : storedTatUs;
  const newTat = tat + cost * intervalUs;
  const allowAt = newTat - burstUs;
  if (allowAt > nowUs + maxDelayUs) {
    const used = tat - nowUs;
    return {
      allowed: false,
      remaining: Math.max(0, Math.floor((burstUs - used) / intervalUs)),
      retryAfterUs: allowAt - nowUs,
      resetUs: used,
      newTatUs: undefined,
      waitUs: 0,
    };
  }
  const used = newTat - nowUs;
  return {
    allowed: true,
    remaining: Math.max(0, Math.floor((burstUs - used) / intervalUs)),
    retryAfterUs: 0,
    resetUs: used,
    newTatUs: used > 0 ? newTat : undefined,
    waitUs: Math.max(0, allowAt - nowUs),
  };
}

/**
 * Gives back `cost` units charged by a reservation whose request never ran (its client left
 * while it waited). Returns the TAT to store, or undefined when the bucket is then full (delete
 * the key). Later reservations keep their instants; the freed units go to the next caller.
 */
export function gcraRefund(storedTatUs: number | undefined, nowUs: number, params: GcraParams, cost: number): number | undefined {
  if (storedTatUs === undefined) return undefined;
  const tat = storedTatUs - cost * params.intervalUs;
  return tat > nowUs ? tat : undefined;
}
