import type { Principal } from './auth/principal.ts';
import type { DegradedFetch } from './degradation/types.ts';
import type { Logger } from './logging/index.ts';

/**
 * Per-request state, created once by the HTTP edge and handed to Apollo Server as the GraphQL
 * context. Every concern reads and writes its own part here, never module-global state.
 */
export interface PorticoContext {
  /** Accepted from `x-request-id` (when well-formed) or generated. Forwarded to subgraphs. */
  readonly requestId: string;
  /** W3C `traceparent` to forward, accepted from the client or generated. */
  readonly traceparent: string;
  /** Child logger carrying the request id. */
  readonly log: Logger;
  readonly principal: Principal;
  /** `performance.now()` when the request's context was made. */
  readonly startedAt: number;
  /** `performance.now()` after which no new subgraph call may start and running ones abort. */
  readonly deadlineAt: number;
  /** Aborted when the client goes away or the deadline passes; subgraph calls follow it. */
  readonly signal: AbortSignal;
  /** Subgraphs this request called (for the access log). */
  readonly subgraphsTouched: Set<string>;
  /** What the subgraph data source could not fetch; turned into errors and `extensions.degraded`. */
  readonly degraded: DegradedFetch[];
  /**
   * Name and type of the operation, noted by the access-log plugin once resolved. A shared
   * object on purpose: Apollo shallow-clones the context per operation, and the access log
   * reads the original.
   */
  readonly operation?: OperationNote;
  /**
   * What the operation was estimated to cost and what it did cost (hardening plugin), and the
   * subgraph fetches it made (data source). Shared like `operation`.
   */
  readonly cost?: CostNote;
  /** How the trusted-documents check classified the request (trusted documents plugin). Shared like `operation`. */
  readonly trustedDocument?: { outcome: TrustedDocumentOutcome | undefined };
  /**
   * True when this request's answer is a copy of an identical in-flight request's (inbound
   * dedup): plugins that shape the leader's response must not shape the copy again.
   */
  sharedResponse: boolean;
}

/** What a request turned out to be, for the access log and request metrics. */
export interface OperationNote {
  name: string | undefined;
  type: 'query' | 'mutation' | 'subscription' | 'none';
}

/** Cost figures of one request, in the estimator's unit (objects, see src/hardening/cost.ts). */
export interface CostNote {
  /** Estimated cost, once the operation is resolved. */
  estimated: number | undefined;
  /** Objects in the answer (+ the mutation base), once an executed operation's answer is ready. */
  actual: number | undefined;
  /** Subgraph fetches the plan made for this request (deduplicated ones included). */
  subgraphFetches: number;
}

/**
 * `listed`: the document is in the trusted documents list; `unlisted`: it is not, and ran
 * (`log` mode); `refused`: it is not, and was refused (`enforce` mode); `bypass`: it is not, and
 * ran because the caller holds the bypass scope.
 */
export type TrustedDocumentOutcome = 'listed' | 'unlisted' | 'refused' | 'bypass';
