import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { FailureKind } from '../resilience/failures.ts';

/**
 * What the subgraph data source exchanges with the rest of Portico: the policy it is given,
 * the raw answers it shares, and the call events it reports. Types only, so observers
 * (metrics, the health view) and the HTTP client depend on these and not on the data source.
 */

/** What happened to one subgraph call, for metrics and the health view. */
export type CallOutcome = 'success' | FailureKind;

export interface SubgraphCallObserver {
  started(subgraph: string): void;
  /**
   * `seconds` is the wall time of the call including retries; 0 when never sent. `detail` is
   * for logs only (may hold addresses or bodies); `reason` is client-safe (health view).
   */
  finished(subgraph: string, key: string, outcome: CallOutcome, seconds: number, detail?: string, reason?: string): void;
  /** A caller was answered by (or failed with) an identical call already in flight. */
  deduplicated?(subgraph: string, outcome: CallOutcome): void;
  retried?(subgraph: string): void;
}

export interface SubgraphPolicy {
  /** Per-call timeout, ms (capped by what is left of the request deadline). */
  timeoutMs: number;
  /** `stale`: serve the last good values when the fetch fails; `null` (default): nulls. */
  fallback: 'null' | 'stale';
  /** A call running longer counts as slow toward the breaker, ms; undefined: not tracked. */
  slowCallMs: number | undefined;
}

/** A subgraph's answer as received: the text is shared between deduplicated callers. */
export interface RawResponse {
  status: number;
  text: string;
  /** The answer's `Cache-Control` and `Vary` headers, read by the cache. */
  cacheControl?: string;
  vary?: string;
}

/** What deduplicated callers share: the raw answer, and the leader's parsed copy. */
export interface SharedCall {
  raw: RawResponse;
  parsed?: GatewayGraphQLResponse;
  /** The `traceparent` the call carried: the leader's fetch span, which a follower's span links to. */
  traceparent?: string | undefined;
}
