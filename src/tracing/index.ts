import { ROOT_CONTEXT, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { ApolloServerPlugin } from '@apollo/server';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { requestState } from '../request/state.ts';
import type { FinishedRequest, PorticoContext, RequestTrace, TraceAttributes, TraceSpan } from '../request/context.ts';
import type { Logger } from '../logging/index.ts';
import { createSpanBatcher } from './batch.ts';
import { OtlpSpanKind, otlpSpan, spanItems, type OtlpSpan } from './export.ts';
import { LightSpan, unrecordedSpan } from './light.ts';
import { ratioSampler } from './sampling.ts';
import { extend } from '../runtime/objects.ts';

/**
 * OpenTelemetry traces of the gateway (issue 19): a span per request, one per stage (parse,
 * validate, plan) and one per subgraph fetch, exported over OTLP/HTTP (JSON) by the official
 * export delegate in batches (./batch.ts). No global provider, no context manager and no `Tracer`: spans are parented
 * explicitly through the request's state, so several instances in one process (tests) never
 * share anything, no async hop of any request pays for context propagation, and Apollo's own
 * instrumentation stays a no-op.
 *
 * Sampling: parent-based ratio, decided once when the request arrives. A client's sampled flag
 * is followed; traces Portico starts are kept at `sampleRatio` (the SDK's trace-id ratio rule,
 * ./sampling.ts, so the same trace id gets the same answer as in other OpenTelemetry services).
 * While a request runs, its spans are only noted on its state (./light.ts: a name, two clock
 * readings, attributes); when it ends, a sampled request's spans are written as OTLP JSON at once
 * (./export.ts) and wait for their batch as one buffer. Degraded and failed requests are kept whatever the ratio said
 * (when `keepFailed`) without a tail-sampling buffer: an unsampled request notes nothing while it
 * runs (every child is one shared span carrying the request's own id, marked "not sampled"), and
 * when its answer turns out degraded or failed, its request span alone is exported, naming the
 * degraded subgraphs, breaker keys and codes, with the id its subgraph calls already carried as
 * their parent. Noting every stage and fetch of every unsampled request in case it failed cost
 * more than the sampled 10 % (docs/benchmarks.md, "Tracing"); to see the whole tree of a failing
 * path, sample it (a client's sampled `traceparent` is followed).
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
  readonly recording = true;
  readonly traceparent: string;
  planning: TraceSpan | undefined = undefined;
  readonly spans: LightSpan[] = [];
  /** Set once its spans were read (or dropped). */
  finished = false;
  private readonly prefix: string;

  constructor(
    /** The tracing it belongs to: several instances may share a process (tests). */
    readonly owner: object,
    /** The client's span, when it sent a valid `traceparent`. */
    readonly parent: SpanContext | undefined,
    readonly attributes: TraceAttributes,
    traceId: string,
    requestSpanId: string,
  ) {
    this.prefix = `00-${traceId}-`;
    // Only sampled requests are recorded: their subgraph calls say so, and the subgraphs join the trace.
    this.traceparent = `${this.prefix}${requestSpanId}-01`;
  }

  child(name: string, attributes?: TraceAttributes): TraceSpan {
    const s = new LightSpan(name, this.prefix, '01', attributes);
    // A span opened after the request ended (a background cache refresh) is not exported.
    if (!this.finished) this.spans.push(s);
    return s;
  }
}

/**
 * An unsampled request's trace when failures are kept: every child is the one span below (the
 * request's own id, "not sampled"); what the request span needs is noted once, on arrival.
 */
class Unrecorded implements RequestTrace {
  readonly recording = false;
  planning: TraceSpan | undefined = undefined;
  finished = false;
  private readonly span: TraceSpan;

  constructor(
    readonly owner: object,
    readonly parent: SpanContext | undefined,
    readonly attributes: TraceAttributes,
    readonly traceparent: string,
  ) {
    this.span = unrecordedSpan(traceparent);
  }

  child(): TraceSpan {
    return this.span;
  }
}

const kindOf = (name: string) => (name === 'subgraph fetch' ? OtlpSpanKind.CLIENT : OtlpSpanKind.INTERNAL);

export function createTracing(options: TracingOptions, deps: TracingDeps): Tracing {
  const log = deps.logger.child({ component: 'tracing' });
  const batcher = createSpanBatcher({ endpoint: options.endpoint, headers: options.headers, resource: { 'service.name': options.serviceName }, timeoutMs: EXPORT_TIMEOUT_MS }, log);
  const sampleRoot = ratioSampler(options.sampleRatio);
  let stopped = false;
  log.info({ event: 'tracing_on', endpoint: options.endpoint, sampleRatio: options.sampleRatio, keepFailed: options.keepFailed }, `tracing on: OTLP/HTTP to ${options.endpoint}, ${options.sampleRatio * 100} % of new traces${options.keepFailed ? ', degraded and failed requests always' : ''}`);

  /** Health checks and the ops routes are never traced: only what executes GraphQL. */
  const traced = (url: string) => url === '/' || url.startsWith('/graphql') || url.startsWith('/?');

  /** Writes a request's spans and queues them for export; `kept` marks an unsampled request kept for failing. */
  function exportRequest(state: PorticoContext, r: Recorder | Unrecorded, status: number, degraded: number, kept: string | undefined): void {
    const failed = status >= 500;
    const requestSpanId = state.traceparent.slice(36, 52);
    const keptAttr = kept === undefined ? undefined : { [KEPT_ATTRIBUTE]: kept };
    const now = performance.now();
    const spans: OtlpSpan[] = [];
    for (const l of r instanceof Recorder ? r.spans : []) {
      spans.push(otlpSpan({
        name: l.name,
        kind: kindOf(l.name),
        traceId: state.traceId,
        spanId: l.spanId,
        parentSpanId: requestSpanId,
        startedAt: l.startedAt,
        endedAt: l.endedAt ?? now,
        attributes: keptAttr ? extend(l.attributes, keptAttr) : l.attributes,
        error: l.errorCode,
        links: l.links,
      }));
    }
    const method = String(r.attributes['http.request.method']);
    const attributes: TraceAttributes = extend(r.attributes, {
      // The operation as the lifecycle plugin noted it on the shared note (Apollo clones the context).
      'graphql.operation.type': state.operation?.type,
      'graphql.operation.name': state.operation?.name,
      'http.response.status_code': status,
      'portico.degraded': degraded > 0,
      'portico.degraded_fetches': degraded || undefined,
      // A request kept for failing has no fetch spans: what failed is said here.
      ...(kept !== undefined && degraded > 0 && degradedAttributes(state)),
      'portico.probe': state.probe,
      ...keptAttr,
    });
    spans.push(otlpSpan({
      name: `${method} ${String(r.attributes['url.path'])}`,
      kind: OtlpSpanKind.SERVER,
      traceId: state.traceId,
      spanId: requestSpanId,
      parentSpanId: r.parent?.spanId,
      startedAt: state.startedAt,
      endedAt: now,
      attributes,
      error: failed ? `HTTP ${status}` : undefined,
      links: undefined,
    }));
    batcher.add(spanItems(spans), spans.length);
  }

  const self: Tracing = {
    hook(req, _reply, done) {
      if (traced(req.url)) self.startRequest(requestState(req), req.headers, req.method, req.url);
      done();
    },
    startRequest(state, headers, method, url) {
      const parent = headers.traceparent === undefined ? undefined : trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, headerGetter));
      const sampled = parent ? (parent.traceFlags & TraceFlags.SAMPLED) !== 0 : sampleRoot(state.traceId);
      const requestSpanId = state.traceparent.slice(36, 52);
      if (!sampled && !options.keepFailed) {
        // Nothing of this request can be exported: its children share one span that notes nothing.
        const traceparent = `00-${state.traceId}-${requestSpanId}-00`;
        const span = unrecordedSpan(traceparent);
        state.trace = { recording: false, traceparent, child: () => span };
        return;
      }
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const attributes = { 'http.request.method': method, 'url.path': path, 'portico.request_id': state.requestId };
      state.trace = sampled
        ? new Recorder(self, parent, attributes, state.traceId, requestSpanId)
        : new Unrecorded(self, parent, attributes, `00-${state.traceId}-${requestSpanId}-00`);
    },

    plugin: {
      async requestDidStart({ contextValue }) {
        const t = contextValue.trace;
        // Stage spans only for recorded requests: an unrecorded one costs Apollo no listeners.
        if (!t?.recording) return;
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
      if (!(r instanceof Recorder || r instanceof Unrecorded) || r.owner !== self || r.finished) return;
      r.finished = true;
      if (stopped) return;
      const degraded = state.degraded.length;
      const failed = status >= 500;
      if (r instanceof Recorder) {
        // Sampled: the request span and what it noted become spans now, ids unchanged.
        exportRequest(state, r, status, degraded, undefined);
        // Whatever still holds the state (a background refresh) must not hold its spans too.
        r.spans.length = 0;
      } else if (failed || degraded > 0) {
        exportRequest(state, r, status, degraded, failed ? 'error' : 'degraded');
      }
    },

    async flush() {
      await batcher.flush().catch((err: unknown) => log.warn({ err }, 'trace export failed'));
    },

    async shutdown() {
      if (stopped) return;
      stopped = true;
      await batcher.shutdown().catch((err: unknown) => log.warn({ err }, 'trace export at shutdown failed'));
    },
  };
  return self;
}

/** Which subgraphs, breaker keys and codes a degraded request lost, deduplicated, as span attributes. */
function degradedAttributes(state: PorticoContext): TraceAttributes {
  const unique = (values: string[]) => [...new Set(values)].join(',');
  return {
    'portico.degraded.subgraphs': unique(state.degraded.map((d) => d.service)),
    'portico.degraded.breaker_keys': unique(state.degraded.map((d) => d.key)),
    'portico.degraded.codes': unique(state.degraded.map((d) => d.code)),
  };
}
