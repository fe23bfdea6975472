/**
 * A cap on concurrent in-flight calls to one subgraph. Fail fast instead of queueing: when a
 * subgraph is slow, a queue only moves the wait (and the memory) into the gateway.
 */
export interface Bulkhead {
  /** Takes a slot or returns false at once when all are taken. */
  tryAcquire(): boolean;
  release(): void;
  readonly inFlight: number;
  readonly limit: number;
  readonly rejected: number;
}

export function createBulkhead(limit: number): Bulkhead {
  let inFlight = 0;
  let rejected = 0;
  return {
    tryAcquire() {
      if (inFlight >= limit) {
        rejected++;
        return false;
      }
      inFlight++;
      return true;
    },
    release() {
      if (inFlight > 0) inFlight--;
    },
    get inFlight() {
      return inFlight;
    },
    get limit() {
      return limit;
    },
    get rejected() {
      return rejected;
    },
  };
}
