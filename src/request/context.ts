import type { Principal } from '../auth/principal.ts';
import type { DegradedFetch } from '../degradation/types.ts';
import type { Logger } from '../logging/index.ts';
import type { CallSignal } from './signal.ts';

/**
 * Per-request state, made once when the request arrives (./lifecycle.ts), carried on
 * the Fastify request, handed as is to Apollo Server as the GraphQL context, and read by every
 * later step: authentication records the principal, the rate limit reads it, execution notes
 * the operation and its cost, the access log and request metrics read the whole. Every concern
 * reads and writes its own part here, never module-global state or a side table.
 */
export interface PorticoContext {
  /** Accepted from `x-request-id` (when well-formed) or generated. Forwarded to subgraphs. */
  readonly requestId: string;
  /** W3C `traceparent` to forward, accepted from the client or generated. */
  readonly traceparent: string;
  /** Trace id part of `traceparent`, for log correlation. */
  readonly traceId: string;
  /** Child logger carrying the request and trace ids. */
  readonly log: Logger;
  /**
   * Anonymous until authentication's `verify` step records the verified principal; only
   * that step writes it, before the rate limit and GraphQL execution read it.
   */
  principal: Principal;
  /** `performance.now()` when the request arrived. */
  readonly startedAt: number;
  /**
   * `performance.now()` after which no new subgraph call may start and running ones abort. Set
   * when GraphQL execution starts (Infinity before): the subgraph budget is not spent on the
   * body upload, a cold JWKS fetch or the rate-limit round trip.
   */
  deadlineAt: number;
  /** Aborted when the client goes away; subgraph calls follow it. Only the HTTP edge aborts it. */
  readonly signal: CallSignal;
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
  /** The headers of this request's subgraph calls, made by its first call (the data source). */
  subgraphCallHeaders?: SubgraphCallHeaders;
  /**
   * Who the rate limit charges and what it answered at the edge, written once by the first edge
   * step that needs it (overload gate or rate-limit hook) and read by the cost charge after parsing.
   */
  rateLimit?: RateLimitNote;
  /**
   * What the answer's parts allow a downstream cache to keep (the cache folds in each fetch;
   * its plugin writes the response's `Cache-Control`). Shared like `operation`.
   */
  readonly cacheNote?: ResponseCacheNote;
  /** The request's trace when tracing is on (src/tracing/), set on arrival; absent when off. */
  trace?: RequestTrace;
  /** Name of the synthetic probe this request is (src/probes/): exempt from limits, marked in logs. */
  probe?: string;
}

/** The freshness the parts of one response add up to (`src/cache/policy.ts` folds them). */
export interface ResponseCacheNote {
  /** Smallest max-age of every part, s; undefined while no part was seen. */
  maxAgeS: number | undefined;
  /** Some part was private to the caller. */
  private: boolean;
  /** Some part may not be kept (no TTL, no-store, a failure): the whole response may not. */
  noStore: boolean;
}

/** The rate limit's part of the request state. */
export interface RateLimitNote {
  /** Bucket key (`sub:`, `key:`, `ip:`) and the tier the caller claims. */
  readonly subject: { readonly key: string; readonly tier: string };
  /** RateLimit headers of the request-count decision, to merge with the cost decision's. */
  headers: Record<string, string>;
  /** Time spent queued for quota so far (request and cost checks), ms. */
  queuedMs: number;
}

/** Attribute values a span carries. */
export type TraceAttributes = Record<string, string | number | boolean | undefined>;

/**
 * The request's trace as the steps below the edge see it: they open child spans and never
 * learn whether the request is sampled. Made by src/tracing/.
 */
export interface RequestTrace {
  /**
   * False for a request whose spans are not recorded (not sampled): steps skip making spans and
   * their attributes, and their calls carry {@link traceparent}.
   */
  readonly recording: boolean;
  /** What a call made outside a recorded span carries: the request span, with its sampled flag. */
  readonly traceparent: string;
  /** Starts a child span of the request span (a stage or a subgraph fetch). Never throws. */
  child(name: string, attributes?: TraceAttributes): TraceSpan;
  /** The planning stage, opened when execution starts and closed when the plan is resolved. */
  planning?: TraceSpan;
}

export interface TraceSpan {
  /** W3C `traceparent` naming this span as the parent, for the call it makes. */
  readonly traceparent: string;
  set(key: string, value: string | number | boolean | undefined): void;
  /** Links the span named by this `traceparent` (a dedup follower: the leader's call it waited on). */
  link?(traceparent: string): void;
  /** Ends the span; `errorCode` marks it failed with that code. Idempotent. */
  end(errorCode?: string): void;
}

/** What every subgraph call of one request sends: correlation and identity headers. */
export interface SubgraphCallHeaders {
  readonly headers: Record<string, string>;
  /** The identity headers as a string, part of the dedup key: calls of different callers never merge. */
  readonly identityKey: string;
}

/** nginx's status for "the client closed the connection before the answer": never sent, only logged and counted. */
export const CLIENT_CLOSED_REQUEST = 499;

/** A request whose answer is final, as the access log and request metrics see it. */
export interface FinishedRequest {
  readonly state: PorticoContext;
  readonly method: string;
  /** Path without the query string: GET /graphql carries the whole operation and its variables there. */
  readonly path: string;
  /** The status sent, or {@link CLIENT_CLOSED_REQUEST}. */
  readonly status: number;
  /** From arrival to the last byte of the answer (or to the client going away), ms. */
  readonly ms: number;
}

/** The request's own handle on its state: what only the HTTP edge may do with it. */
export interface RequestStateControl {
  readonly state: PorticoContext;
  /** Aborts {@link PorticoContext.signal}: the client went away. */
  abort(): void;
  /** True once the request's answer is final (sent, or the client went away); set by the edge. */
  finished: boolean;
}

/** The GraphQL operation kind, or `none` (refused before it was resolved, or not GraphQL). */
export type OperationType = 'query' | 'mutation' | 'subscription' | 'none';

/** What a request turned out to be, for the access log and request metrics. */
export interface OperationNote {
  name: string | undefined;
  type: OperationType;
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
