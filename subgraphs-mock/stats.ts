/**
 * Per-mock counters that tests read to prove what reached a subgraph (batching, forwarding,
 * aborts). One {@link StatsRecorder} per running mock; nothing here is module-global.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** How many /graphql request header objects {@link MockStats.recentHeaders} keeps. */
export const RECENT_HEADERS_LIMIT = 50;

/** A snapshot of one mock's counters, as served by `GET /stats`. */
export interface MockStats {
  /** Every request to /graphql that reached the mock, including faulted (refused, hung) ones. */
  requests: number;
  /** /graphql requests handed to GraphQL execution, i.e. not answered by an injected fault. */
  graphqlRequests: number;
  /** Backend reads: +1 per DataLoader batch call and +1 per root-field list read. */
  backendLookups: number;
  /** Mutations applied (e.g. addReview). */
  mutations: number;
  /** /graphql requests whose client went away before the answer was complete. */
  aborted: number;
  /** Connections reset by the "refuse" fault. */
  refused: number;
  /** /graphql requests currently open (a gauge: not cleared by reset). */
  inFlight: number;
  /** Headers of the last {@link RECENT_HEADERS_LIMIT} /graphql requests, oldest first. */
  recentHeaders: IncomingHttpHeaders[];
}

type Counter = Exclude<keyof MockStats, 'inFlight' | 'recentHeaders'>;

/** Mutable counters behind {@link MockStats}; cheap enough to touch on every request. */
export class StatsRecorder {
  private counters: Record<Counter, number> = StatsRecorder.zero();
  private inFlightNow = 0;
  // Ring buffer: a fixed array and a write index, so recording never allocates or shifts.
  private headers: IncomingHttpHeaders[] = [];
  private nextHeaderSlot = 0;

  private static zero(): Record<Counter, number> {
    return { requests: 0, graphqlRequests: 0, backendLookups: 0, mutations: 0, aborted: 0, refused: 0 };
  }

  /** Adds `by` (default 1) to a counter. */
  count(counter: Counter, by = 1): void {
    this.counters[counter] += by;
  }

  /** Marks a /graphql request as started: counts it, records its headers, raises inFlight. */
  requestStarted(headers: IncomingHttpHeaders): void {
    this.counters.requests += 1;
    this.inFlightNow += 1;
    if (this.headers.length < RECENT_HEADERS_LIMIT) {
      this.headers.push(headers);
    } else {
      this.headers[this.nextHeaderSlot] = headers;
    }
    this.nextHeaderSlot = (this.nextHeaderSlot + 1) % RECENT_HEADERS_LIMIT;
  }

  /** Marks a /graphql request started with {@link requestStarted} as finished or abandoned. */
  requestEnded(): void {
    this.inFlightNow -= 1;
  }

  /** A copy of the counters; headers oldest first. */
  snapshot(): MockStats {
    const full = this.headers.length === RECENT_HEADERS_LIMIT;
    const recentHeaders = full
      ? [...this.headers.slice(this.nextHeaderSlot), ...this.headers.slice(0, this.nextHeaderSlot)]
      : [...this.headers];
    return { ...this.counters, inFlight: this.inFlightNow, recentHeaders };
  }

  /** Clears counters and headers; inFlight is left alone because those requests are still open. */
  reset(): void {
    this.counters = StatsRecorder.zero();
    this.headers = [];
    this.nextHeaderSlot = 0;
  }
}
