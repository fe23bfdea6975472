/**
 * What the harness and its children say to each other over stdout/stderr. Kept apart from the
 * child entry points, which start servers when imported.
 */

/** A subgraph child prints `BENCH_READY <json of SubgraphsReady>` once it listens. */
export const READY_PREFIX = 'BENCH_READY ';
/** The ready line in a child's output; group 1 is the JSON. Whole lines only (up to the newline). */
export const READY_LINE = new RegExp(`^${READY_PREFIX}(.*)\\n`, 'm');

/** What the harness reads from the ready line. */
export interface SubgraphsReady {
  /** Subgraph name → GraphQL URL. */
  readonly urls: Record<string, string>;
  /** Subgraph name → fault switch URL (demo mocks only). */
  readonly faultUrls: Record<string, string>;
}

/** Printed on a gateway's stderr by the loopback guard for every connection it refuses. */
export const EGRESS_MARKER = '[bench-guard] blocked egress';
