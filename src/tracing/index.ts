import { ROOT_CONTEXT, SpanKind, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ApolloServerPlugin } from '@apollo/server';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { requestState } from '../request/state.ts';
import type { FinishedRequest, PorticoContext, RequestTrace, TraceAttributes, TraceSpan } from '../request/context.ts';
import type { Logger } from '../logging/index.ts';
import { readableSpan, type FinishedSpan } from './export.ts';
import { LightSpan, unrecordedSpan } from './light.ts';
import { ratioSampler } from './sampling.ts';

/**
 * OpenTelemetry traces of the gateway (issue 19): a span per request, one per stage (parse,
 * validate, plan) and one per subgraph fetch, exported over OTLP/HTTP (JSON) by the SDK's batch
 * processor. No global provider, no context manager and no `Tracer`: spans are parented
 * explicitly through the request's state, so several instances in one process (tests) never
 * share anything, no async hop of any request pays for context propagation, and Apollo's own
 * instrumentation stays a no-op.
 *
 * Sampling: parent-based ratio, decided once when the request arrives. A client's sampled flag
 * is followed; traces Portico starts are kept at `sampleRatio` (the SDK's trace-id ratio rule,
 * ./sampling.ts, so the same trace id gets the same answer as in other OpenTelemetry services).
 * While a request runs, its spans are only noted on its state (./light.ts: a name, two clock
 * readings, attributes); when it ends, a sampled request's spans become `ReadableSpan`s for the
 * batch processor (./export.ts). Degraded and failed requests are kept whatever the ratio said
 * (when `keepFailed`) without a tail-sampling buffer: an unsampled request notes the same few
 * numbers, and they are exported only when its answer turns out degraded or failed, with the
 * ids its subgraph calls already carried ("not sampled": the subgraphs keep nothing of it).
 * With `keepFailed` off, an unsampled request notes nothing at all.
 */

export interface TracingOptions {
  readonly sampleRatio: number;
  readonly keepFailed: boolean;
  /** OTLP/HTTP traces URL. */
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
}

export interface TracingDeps {
  readonly logger: Logger;
}

export interface Tracing {
  /** Starts the request's trace and puts it on the state; first hook after the state is made. */
  startRequest(state: PorticoContext, headers: IncomingHttpHeaders, method: string, url: string): void;
  /**
   * Fastify `onRequest` hook calling {@link startRequest} for GraphQL routes (not health checks).
   * Callback style: an async hook costs every request a promise and a microtask.
   */
  readonly hook: (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;
  /** Parse / validate / plan spans. */
  readonly plugin: ApolloServerPlugin<PorticoContext>;
  /** The gateway's `experimental_didResolveQueryPlan`: the plan stage ends. */
  didResolveQueryPlan(context: PorticoContext): void;
  /** Request lifecycle `onFinish` listener: ends (or, kept for failing, replays) the request span. */
  onFinish(finished: FinishedRequest): void;
  /** Exports what is buffered now. */
  flush(): Promise<void>;
  /** Flushes and stops. Idempotent. */
  shutdown(): Promise<void>;
}

/** Attribute under which a request kept for failing (not sampled) says why: `degraded` or `error`. */
export const KEPT_ATTRIBUTE = 'portico.trace.kept';
/** Exporting must never hold a shutdown for long. */
const EXPORT_TIMEOUT_MS = 5_000;
/** Spans an unsampled request notes for a possible keep: a huge plan must not grow its state without bound. */
const MAX_KEPT_SPANS = 64;

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (h: IncomingHttpHeaders) => Object.keys(h),
  get: (h: IncomingHttpHeaders, key: string) => h[key],
};

/**
 * A request's trace while it runs (`state.trace`): the spans it notes, read when it ends. Kept on
 * the state itself rather than in a WeakMap beside it: one ephemeron entry per request is work
 * for every garbage collection.
 */
class Recorder implements RequestTrace {
  planning: TraceSpan | undefined = undefined;
  readonly spans: LightSpan[] = [];
  /** Set once its spans were read (or dropped). */
  finished = false;
  private readonly prefix: string;
  private readonly flags: string;

  constructor(
    /** The tracing it belongs to: several instances may share a process (tests). */
    readonly owner: object,
    readonly sampled: boolean,
    /** The client's span, when it sent a valid `traceparent`. */
    readonly parent: SpanContext | undefined,
    readonly attributes: TraceAttributes,
    traceId: string,
  ) {
    this.prefix = `00-${traceId}-`;
    // The flag the subgraph calls carry: a sampled request's subgraphs join its trace.
    this.flags = sampled ? '01' : '00';
  }

  child(name: string, attributes?: TraceAttributes): TraceSpan {
    const s = new LightSpan(name, this.prefix, this.flags, attributes);
    // A span opened after the request ended (a background cache refresh) is not exported.
    if (!this.finished && (this.sampled || this.spans.length < MAX_KEPT_SPANS)) this.spans.push(s);
    return s;
  }
}

const kindOf = (name: string) => (name === 'subgraph fetch' ? SpanKind.CLIENT : SpanKind.INTERNAL);

export function createTracing(options: TracingOptions, deps: TracingDeps): Tracing {
  const log = deps.logger.child({ component: 'tracing' });
  const exporter = new OTLPTraceExporter({ url: options.endpoint, headers: { ...options.headers }, timeoutMillis: EXPORT_TIMEOUT_MS });
  const processor = new BatchSpanProcessor(exporter);
  const resource = resourceFromAttributes({ 'service.name': options.serviceName });
  const sampleRoot = ratioSampler(options.sampleRatio);
  let stopped = false;
  log.info({ event: 'tracing_on', endpoint: options.endpoint, sampleRatio: options.sampleRatio, keepFailed: options.keepFailed }, `tracing on: OTLP/HTTP to ${options.endpoint}, ${options.sampleRatio * 100} % of new traces${options.keepFailed ? ', degraded and failed requests always' : ''}`);

  /** Health checks and the ops routes are never traced: only what executes GraphQL. */
  const traced = (url: string) => url === '/' || url.startsWith('/graphql') || url.startsWith('/?');

  /** Hands a request's spans to the batch processor; `kept` marks an unsampled request kept for failing. */
  function exportRequest(state: PorticoContext, r: Recorder, status: number, degraded: number, kept: string | undefined): void {
    const failed = status >= 500;
    const requestSpanId = state.traceparent.slice(36, 52);
    const requestContext: SpanContext = { traceId: state.traceId, spanId: requestSpanId, traceFlags: TraceFlags.SAMPLED };
    const keptAttr = kept === undefined ? undefined : { [KEPT_ATTRIBUTE]: kept };
    for (const l of r.spans) {
      const span: FinishedSpan = {
        name: l.name,
        kind: kindOf(l.name),
        traceId: state.traceId,
        spanId: l.spanId,
        parent: requestContext,
        startedAt: l.startedAt,
        endedAt: l.endedAt ?? performance.now(),
        attributes: keptAttr ? { ...l.attributes, ...keptAttr } : l.attributes,
        error: l.errorCode,
        links: l.links,
      };
      processor.onEnd(readableSpan(span, resource));
    }
    const method = String(r.attributes['http.request.method']);
    const attributes: TraceAttributes = {
      ...r.attributes,
      // The operation as the lifecycle plugin noted it on the shared note (Apollo clones the context).
      'graphql.operation.type': state.operation?.type,
      'graphql.operation.name': state.operation?.name,
      'http.response.status_code': status,
      'portico.degraded': degraded > 0,
      'portico.degraded_fetches': degraded || undefined,
      'portico.probe': state.probe,
      ...keptAttr,
    };
    const request: FinishedSpan = {
      name: `${method} ${String(r.attributes['url.path'])}`,
      kind: SpanKind.SERVER,
      traceId: state.traceId,
      spanId: requestSpanId,
      parent: r.parent,
      startedAt: state.startedAt,
      endedAt: performance.now(),
      attributes,
      error: failed ? `HTTP ${status}` : undefined,
      links: undefined,
    };
    processor.onEnd(readableSpan(request, resource));
  }

  const self: Tracing = {
    hook(req, _reply, done) {
      if (traced(req.url)) self.startRequest(requestState(req), req.headers, req.method, req.url);
      done();
    },
    startRequest(state, headers, method, url) {
      const parent = headers.traceparent === undefined ? undefined : trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, headerGetter));
      const sampled = parent ? (parent.traceFlags & TraceFlags.SAMPLED) !== 0 : sampleRoot(state.traceId);
      if (!sampled && !options.keepFailed) {
        // Nothing of this request can be exported: its children share one span that notes nothing.
        const span = unrecordedSpan(`00-${state.traceId}-${state.traceparent.slice(36, 52)}-00`);
        state.trace = { child: () => span };
        return;
      }
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      state.trace = new Recorder(self, sampled, parent, { 'http.request.method': method, 'url.path': path, 'portico.request_id': state.requestId }, state.traceId);
    },

    plugin: {
      async requestDidStart({ contextValue }) {
        const t = contextValue.trace;
        if (!t) return;
        return {
          async parsingDidStart() {
            const span = t.child('graphql.parse');
            return async (err?: Error) => span.end(err ? 'GRAPHQL_PARSE_FAILED' : undefined);
          },
          async validationDidStart() {
            const span = t.child('graphql.validate');
            return async (errs?: readonly Error[]) => span.end(errs?.length ? 'GRAPHQL_VALIDATION_FAILED' : undefined);
          },
          async executionDidStart() {
            // Ends at didResolveQueryPlan: the gateway's own validation, plan cache and planning.
            t.planning = t.child('graphql.plan');
          },
        };
      },
    },

    didResolveQueryPlan(context) {
      context.trace?.planning?.end();
    },

    onFinish({ state, status }) {
      const r = state.trace;
      if (!(r instanceof Recorder) || r.owner !== self || r.finished) return;
      r.finished = true;
      if (stopped) return;
      const degraded = state.degraded.length;
      const failed = status >= 500;
      // Sampled, or kept for failing: the request span and what it noted become spans now, ids unchanged.
      if (r.sampled || failed || degraded > 0) exportRequest(state, r, status, degraded, r.sampled ? undefined : failed ? 'error' : 'degraded');
      // Whatever still holds the state (a background refresh) must not hold its spans too.
      r.spans.length = 0;
    },

    async flush() {
      await processor.forceFlush().catch((err: unknown) => log.warn({ err }, 'trace export failed'));
    },

    async shutdown() {
      if (stopped) return;
      stopped = true;
      await processor.shutdown().catch((err: unknown) => log.warn({ err }, 'trace export at shutdown failed'));
    },
  };
  return self;
}
