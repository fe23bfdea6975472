import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { DocumentNode } from 'graphql';
import type { FetchCache, FetchOutcome } from '../cache/index.ts';
import type { PorticoContext, SubgraphCallHeaders, TraceSpan } from '../request/context.ts';
import type { StaleStore } from '../degradation/staleStore.ts';
import { createSubgraphFallback, type SubgraphFallback } from '../degradation/subgraphFallback.ts';
import type { FetchFacts } from '../degradation/types.ts';
import type { Logger } from '../logging/index.ts';
import type { BreakerRegistry } from '../resilience/breakers.ts';
import { createBulkhead, type Bulkhead } from '../resilience/bulkhead.ts';
import type { CallSignal } from '../request/signal.ts';
import type { InflightDedup } from '../resilience/dedup.ts';
import { classifyFetchError, SubgraphFailure, TimeoutReason } from '../resilience/failures.ts';
import { createRetryBudget, type RetryBudget } from '../resilience/retryBudget.ts';
import { fetchShape, type FetchShape } from './fetchShape.ts';
import type { SubgraphHttpClient } from './httpClient.ts';
import { createParseCache, type ParseCache } from './parseCache.ts';
import { checkResponse } from './responseCheck.ts';
import type { RawResponse, SharedCall, SubgraphCallObserver, SubgraphPolicy } from './types.ts';

/** Retry jitter: a short random pause so retries of many requests do not arrive as one wave. */
const RETRY_JITTER_MIN_MS = 5;
const RETRY_JITTER_MAX_MS = 40;

export interface DataSourceOptions {
  name: string;
  url: string;
  /** Policy for a breaker key (`pricing:Product`), falling back to the subgraph's and the default. */
  policyFor: (key: string) => SubgraphPolicy;
  /** Max concurrent in-flight calls to this subgraph. */
  maxInFlight: number;
  /** Share identical concurrent query fetches. */
  dedup: boolean;
  /** Retry a query once on a connection failure (budgeted). */
  retry: boolean;
  /** Larger answers are cut off and count as a failure (`too_large`), bytes. */
  maxResponseBytes: number;
}

export interface DataSourceDeps {
  logger: Logger;
  /** Keep-alive HTTP client shared by all subgraphs of this instance. */
  http: SubgraphHttpClient;
  breakers: BreakerRegistry;
  inflight: InflightDedup<SharedCall>;
  /** Where `fallback: stale` field groups keep their last good values. */
  stale: StaleStore;
  /** Parsed fetch documents; default one of this data source's own. */
  parseCache?: ParseCache;
  observer?: SubgraphCallObserver;
  /**
   * Headers that change what a subgraph answers (forwarded identity). Part of the dedup key:
   * two principals never share an answer.
   */
  identityHeadersFor?: (ctx: PorticoContext) => Record<string, string>;
  /** Headers that only correlate (request id, traceparent); not part of the dedup key. */
  traceHeadersFor?: (ctx: PorticoContext) => Record<string, string>;
  /** The entity and response cache (`src/cache/`); absent: every fetch is sent. */
  cache?: FetchCache;
}

/**
 * The gateway's `GraphQLDataSourceRequestKind` enum is not exported from the package root;
 * its values are stable strings.
 */
const INCOMING_OPERATION = 'incoming operation';

/** The parts of the process options we read, as the gateway passes them. */
interface ProcessOptions {
  kind: string;
  request: { query?: string; variables?: Record<string, any>; operationName?: string };
  context: Record<string, any>;
  document?: DocumentNode;
  pathInIncomingRequest?: readonly (string | number)[];
}

/**
 * All subgraph I/O goes through here. For a client operation, in order:
 * deadline → dedup (queries) → bulkhead → breaker (subgraph × field group) → timeout (abort) →
 * retry (queries, connection failures, budgeted). A failure never throws into the gateway: the
 * fetch answers nulls for exactly its own fields (or stale values) and is recorded in the
 * request context, from which the degradation plugin builds response-shaped errors.
 * Health-check and schema traffic skips breakers, dedup and degradation, and is labelled apart.
 */
export class SubgraphDataSource implements GraphQLDataSource<PorticoContext & Record<string, any>> {
  readonly name: string;
  readonly url: string;
  private readonly bulkhead: Bulkhead;
  private readonly retryBudget: RetryBudget;
  private readonly log: Logger;
  /** The failure of an answer over the size limit (made once: the limit is fixed). */
  private readonly tooLarge = () => new SubgraphFailure('too_large', `answered more than ${this.options.maxResponseBytes} bytes (PORTICO_SUBGRAPH_MAX_RESPONSE_BYTES)`);
  /** Nulls or stale values for failed fetches, and the good values kept for them. */
  private readonly fallback: SubgraphFallback;
  private readonly parseCache: ParseCache;

  constructor(
    private readonly options: DataSourceOptions,
    private readonly deps: DataSourceDeps,
  ) {
    this.name = options.name;
    this.url = options.url;
    this.bulkhead = createBulkhead(options.maxInFlight);
    this.retryBudget = createRetryBudget();
    this.log = deps.logger.child({ component: 'subgraph', subgraph: options.name });
    this.fallback = createSubgraphFallback({ service: options.name }, { stale: deps.stale });
    this.parseCache = deps.parseCache ?? createParseCache();
  }

  get inFlight(): number {
    return this.bulkhead.inFlight;
  }

  async process(options: GraphQLDataSourceProcessOptions<PorticoContext & Record<string, any>>): Promise<GatewayGraphQLResponse> {
    const o = options as unknown as ProcessOptions;
    const { request } = o;
    if (o.kind !== INCOMING_OPERATION) {
      const body = JSON.stringify({ query: request.query, variables: request.variables, operationName: request.operationName });
      // Health checks and schema loads: plain call with the default timeout, no breaker.
      const raw = await this.send(body, {}, this.options.policyFor(this.name).timeoutMs, undefined, undefined, false);
      return JSON.parse(raw.text) as GatewayGraphQLResponse;
    }
    const ctx = o.context as PorticoContext;
    const query = request.query ?? '';
    const document = o.document ?? this.parseCache.parse(query);
    const shape = fetchShape(document);
    const key = `${this.name}:${shape.group}`;
    const policy = this.options.policyFor(key);
    const path = o.pathInIncomingRequest ?? [];
    const send = (variables: Record<string, any> | undefined, opts: { fallback: readonly (string | undefined)[]; background: boolean }) =>
      this.fetch(ctx, shape, { key, fallback: policy.fallback, shape, document, query, variables }, request, policy, path, opts);
    if (!this.deps.cache || shape.operationType !== 'query') return (await send(request.variables, { fallback: [], background: false })).response;
    // Hits and misses per entity: only what is missing reaches `fetch` below.
    const { headers, identityKey } = this.requestHeaders(ctx);
    const f = { subgraph: this.name, key, group: shape.group, kind: shape.kind, operationType: shape.operationType, document, query, variables: request.variables };
    return this.deps.cache.fetch(f, ctx, headers, identityKey, send);
  }

  /**
   * One call for these facts (their variables may be the cache's misses only). A failure answers
   * nulls or stale values, from the stale store or `opts.fallback` (the cache's values still
   * within stale-if-error); a background refresh's failure is not recorded on the request.
   */
  private async fetch(
    ctx: PorticoContext,
    shape: FetchShape,
    facts: FetchFacts,
    request: ProcessOptions['request'],
    policy: SubgraphPolicy,
    path: readonly (string | number)[],
    opts: { fallback: readonly (string | undefined)[]; background: boolean },
  ): Promise<FetchOutcome> {
    const { key } = facts;
    const body = JSON.stringify({ query: request.query, variables: facts.variables, operationName: request.operationName });
    ctx.subgraphsTouched.add(this.name);
    if (ctx.cost && !opts.background) ctx.cost.subgraphFetches += 1;
    const started = performance.now();
    this.deps.observer?.started(this.name);
    // The fetch span (tracing on): the subgraph call names it as its parent in `traceparent`.
    // Not recorded (not sampled): no span, no attributes; the call carries the request's traceparent.
    const span = ctx.trace?.recording ? ctx.trace.child('subgraph fetch', { 'portico.subgraph': this.name, 'portico.breaker.key': key, 'portico.breaker.state': this.deps.breakers.state(key) }) : undefined;
    try {
      const { response, raw } = await this.call(ctx, key, shape, body, policy, span);
      this.deps.observer?.finished(this.name, key, 'success', (performance.now() - started) / 1000);
      this.fallback.remember(facts, response);
      span?.end();
      return { response, cacheControl: raw.cacheControl, vary: raw.vary, failed: false };
    } catch (err) {
      const elapsedMs = performance.now() - started;
      const remaining = Math.max(0, Math.round(ctx.deadlineAt - started));
      const failure = classifyFetchError(err, Math.min(policy.timeoutMs, remaining), elapsedMs);
      const seconds = failure.kind === 'circuit_open' || failure.kind === 'bulkhead_full' ? 0 : elapsedMs / 1000;
      this.deps.observer?.finished(this.name, key, failure.kind, seconds, failure.detail, failure.reason);
      span?.set('portico.failure', failure.kind);
      if (failure.kind === 'client_gone') {
        span?.end();
        // Not the subgraph's failure, and nobody reads the answer: one quiet line, no degradation.
        ctx.log.info({ event: 'client_gone', subgraph: this.name, key, elapsedMs: Math.round(elapsedMs) }, `[${this.name}] ${failure.reason}; call abandoned`);
        return { response: { data: null }, failed: true };
      }
      ctx.log.warn(
        { event: 'subgraph_failure', subgraph: this.name, key, kind: failure.kind, reason: failure.reason, detail: failure.detail, url: this.url, elapsedMs: Math.round(elapsedMs), background: opts.background || undefined },
        `[${this.name}] ${failure.reason}`,
      );
      const response = await this.fallback.degrade(facts, failure, path, opts.background ? [] : ctx.degraded, opts.fallback);
      span?.set('portico.degraded', true);
      if (!opts.background) span?.set('portico.stale', ctx.degraded.at(-1)?.stale);
      span?.end(opts.background ? failure.kind : ctx.degraded.at(-1)?.code);
      return { response, failed: true };
    }
  }

  private async call(ctx: PorticoContext, key: string, shape: FetchShape, body: string, policy: SubgraphPolicy, span: TraceSpan | undefined): Promise<{ response: GatewayGraphQLResponse; raw: RawResponse }> {
    const remaining = ctx.deadlineAt - performance.now();
    if (remaining <= 0) throw new SubgraphFailure('deadline', 'request deadline reached before the call');
    const isDeadline = remaining < policy.timeoutMs;
    const timeoutMs = Math.max(1, Math.floor(Math.min(policy.timeoutMs, remaining)));
    const callHeaders = this.requestHeaders(ctx);
    const { identityKey } = callHeaders;
    const headers = span ? Object.assign({}, callHeaders.headers, { traceparent: span.traceparent }) : callHeaders.headers;
    const canRetry = this.options.retry && shape.operationType === 'query';

    const exec = async (signal: CallSignal | undefined): Promise<SharedCall> => {
      if (!this.bulkhead.tryAcquire()) throw new SubgraphFailure('bulkhead_full', 'too many concurrent requests to this subgraph');
      try {
        const raw = await this.send(body, headers, timeoutMs, isDeadline, signal, canRetry, span);
        return { raw, parsed: checkResponse(raw), traceparent: headers['traceparent'] };
      } finally {
        this.bulkhead.release();
      }
    };

    // Every caller goes through the breaker, followers of a shared call too, so the breaker
    // counts demand: with dedup inside it, a hung subgraph under heavy traffic showed the
    // breaker one call per timeout period and never reached the volume threshold.
    return this.deps.breakers.fire(
      this.name,
      key,
      async () => {
        // Mutations are never shared or retried: each must reach the subgraph exactly as sent.
        if (!this.options.dedup || shape.operationType !== 'query') {
          const { raw, parsed } = await exec(ctx.signal);
          return { response: parsed ?? checkResponse(raw), raw };
        }
        // Identity headers are part of the key: two principals never share an answer.
        const { promise, shared } = this.deps.inflight.run(`${this.name}\u0000${identityKey}`, body, exec, { signal: ctx.signal, onAbort: clientGone });
        // Only the leader's call reaches the subgraph, carrying the leader's fetch span as parent;
        // a follower's span says it sent nothing and links that span once the answer is shared.
        span?.set('portico.dedup', shared ? 'follower' : 'leader');
        if (!shared) {
          const value = await promise;
          return { response: value.parsed ?? checkResponse(value.raw), raw: value.raw };
        }
        let value: SharedCall;
        try {
          value = await promise;
        } catch (err) {
          this.deps.observer?.deduplicated?.(this.name, classifyFetchError(err, timeoutMs).kind);
          throw err;
        }
        this.deps.observer?.deduplicated?.(this.name, 'success');
        if (value.traceparent !== undefined) span?.link?.(value.traceparent);
        // The leader's parsed object belongs to the leader's plan; parse our own copy.
        return { response: checkResponse(value.raw), raw: value.raw };
      },
      policy.slowCallMs,
    );
  }

  /**
   * The headers of this request's subgraph calls and the identity part of their dedup key,
   * made once per client request (a product page makes four calls).
   */
  private requestHeaders(ctx: PorticoContext): SubgraphCallHeaders {
    // Kept on the request's state: every data source of one Portico shares the same header
    // builders (server.ts), so whichever source makes them first makes them for all.
    if (!ctx.subgraphCallHeaders) {
      const identity = this.deps.identityHeadersFor?.(ctx) ?? {};
      // A deduplicated call carries the leader's request id; followers log theirs with the call.
      ctx.subgraphCallHeaders = { headers: Object.assign({}, this.deps.traceHeadersFor?.(ctx), identity), identityKey: JSON.stringify(identity) };
    }
    return ctx.subgraphCallHeaders;
  }

  /**
   * One HTTP exchange (plus at most one budgeted retry on a connection failure), all within
   * `timeoutMs`, and given up when the client goes away.
   */
  private async send(body: string, headers: Record<string, string>, timeoutMs: number, isDeadline: boolean | undefined, clientSignal: CallSignal | undefined, canRetry: boolean, span?: TraceSpan): Promise<RawResponse> {
    const endsAt = performance.now() + timeoutMs;
    const onTimeout = () => new TimeoutReason(isDeadline === true ? 'deadline' : 'timeout');
    if (canRetry) this.retryBudget.onRequest();
    for (let attempt = 0; ; attempt++) {
      const left = Math.max(1, Math.ceil(endsAt - performance.now()));
      try {
        return await this.deps.http.post(this.url, headers, body, { timeoutMs: left, onTimeout, signal: clientSignal, onAbort: clientGone, maxBytes: this.options.maxResponseBytes, onTooLarge: this.tooLarge });
      } catch (err) {
        // Only connection failures are retried: a timeout means the subgraph is slow, and
        // asking again would double its load exactly when it can least take it.
        if (err instanceof TimeoutReason || !canRetry || attempt > 0 || !this.retryBudget.tryRetry()) throw err;
        this.deps.observer?.retried?.(this.name);
        span?.set('portico.retried', true);
        await jitter(endsAt - performance.now());
        if (clientSignal?.aborted) throw clientGone();
        if (performance.now() >= endsAt) throw onTimeout();
      }
    }
  }
}

/** A client that went away ends its calls: nobody waits for them, and it is not the subgraph's fault. */
function clientGone(): TimeoutReason {
  return new TimeoutReason('client_gone');
}

/** A short random pause (never past `leftMs`), so retries of many requests do not arrive as one wave. */
function jitter(leftMs: number): Promise<void> {
  const ms = Math.min(Math.max(0, leftMs), RETRY_JITTER_MIN_MS + Math.random() * (RETRY_JITTER_MAX_MS - RETRY_JITTER_MIN_MS));
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function createSubgraphDataSource(options: DataSourceOptions, deps: DataSourceDeps): SubgraphDataSource {
  return new SubgraphDataSource(options, deps);
}
