import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  RandomIdGenerator,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type IdGenerator,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace-base';
import type { ApolloServerPlugin } from '@apollo/server';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { requestState } from '../request/state.ts';
import type { FinishedRequest, PorticoContext, RequestTrace, TraceAttributes, TraceSpan } from '../request/context.ts';
import type { Logger } from '../logging/index.ts';
import { LightSpan, type LightRecord } from './light.ts';

/**
 * OpenTelemetry traces of the gateway (issue 19): a span per request, one per stage (parse,
 * validate, plan) and one per subgraph fetch, exported over OTLP/HTTP (JSON) by a batch
 * processor. The SDK is used directly, without a global provider or a context manager: spans
 * are parented explicitly through the request's state, so several instances in one process
 * (tests) never share a tracer, and Apollo's own instrumentation stays a no-op.
 *
 * Sampling: parent-based ratio. A client's sampled flag is followed; traces Portico starts are
 * kept at `sampleRatio`. Degraded and failed requests are kept whatever the ratio said (when
 * `keepFailed`) without a tail-sampling buffer: an unsampled request records only a few
 * timestamps on its own state (`light.ts`), and when its answer turns out degraded or failed
 * those become spans, with the ids its subgraph calls already carried. Only that request's own
 * spans are kept: its subgraphs were told "not sampled" and keep nothing.
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
  /** Fastify `onRequest` hook calling {@link startRequest} for GraphQL routes (not health checks). */
  readonly hook: (req: FastifyRequest) => Promise<void>;
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

/** Attribute under which a replayed (kept for failing) request says why; the sampler keeps those. */
export const KEPT_ATTRIBUTE = 'portico.trace.kept';
/** Exporting must never hold a shutdown for long. */
const EXPORT_TIMEOUT_MS = 5_000;

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (h: IncomingHttpHeaders) => Object.keys(h),
  get: (h: IncomingHttpHeaders, key: string) => h[key],
};

/**
 * Ids from a slot when one is set, else random: the request span takes the span id the request's
 * state already logged and forwarded (`traceparent`), and a replayed span the id its subgraph
 * call carried. Span creation is synchronous, so a slot set just before never leaks to another.
 */
class SlotIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  nextTraceId: string | undefined;
  nextSpanId: string | undefined;
  generateTraceId(): string {
    const id = this.nextTraceId ?? this.random.generateTraceId();
    this.nextTraceId = undefined;
    return id;
  }
  generateSpanId(): string {
    const id = this.nextSpanId ?? this.random.generateSpanId();
    this.nextSpanId = undefined;
    return id;
  }
}

/** Parent-based ratio, except that a replayed failing request is always kept. */
export function porticoSampler(ratio: number): Sampler {
  const base = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  return {
    shouldSample(context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
      if (attributes[KEPT_ATTRIBUTE] !== undefined) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
      return base.shouldSample(context, traceId, name, kind, attributes, links);
    },
    toString: () => `PorticoSampler{${base.toString()}}`,
  };
}

const epochMs = (perfNow: number) => performance.timeOrigin + perfNow;

export function createTracing(options: TracingOptions, deps: TracingDeps): Tracing {
  const log = deps.logger.child({ component: 'tracing' });
  const ids = new SlotIdGenerator();
  const exporter = new OTLPTraceExporter({ url: options.endpoint, headers: { ...options.headers }, timeoutMillis: EXPORT_TIMEOUT_MS });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    sampler: porticoSampler(options.sampleRatio),
    idGenerator: ids,
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('portico');
  const rootSampler = new TraceIdRatioBasedSampler(options.sampleRatio);
  let stopped = false;
  log.info({ event: 'tracing_on', endpoint: options.endpoint, sampleRatio: options.sampleRatio, keepFailed: options.keepFailed }, `tracing on: OTLP/HTTP to ${options.endpoint}, ${options.sampleRatio * 100} % of new traces${options.keepFailed ? ', degraded and failed requests always' : ''}`);

  function startSpan(name: string, parent: Context, attributes: TraceAttributes | undefined, startTime: number | undefined, traceId?: string, spanId?: string, kind: SpanKind = SpanKind.INTERNAL): Span {
    ids.nextTraceId = traceId;
    ids.nextSpanId = spanId;
    try {
      return tracer.startSpan(name, { kind, attributes: clean(attributes), startTime }, parent);
    } finally {
      ids.nextTraceId = undefined;
      ids.nextSpanId = undefined;
    }
  }

  /** A sampled request: real spans, parented to the request span. */
  function sampledTrace(requestSpan: Span): RequestTrace {
    const parent = trace.setSpan(ROOT_CONTEXT, requestSpan);
    return {
      child(name, attributes) {
        const span = startSpan(name, parent, attributes, undefined, undefined, undefined, name === 'subgraph fetch' ? SpanKind.CLIENT : SpanKind.INTERNAL);
        return wrap(span);
      },
    };
  }

  const requestSpans = new WeakMap<PorticoContext, { span?: Span; light?: LightRecord; parent: Context; attributes: TraceAttributes }>();

  /** Health checks and the ops routes are never traced: only what executes GraphQL. */
  const traced = (url: string) => url === '/' || url.startsWith('/graphql') || url.startsWith('/?');

  const self: Tracing = {
    async hook(req) {
      if (traced(req.url)) self.startRequest(requestState(req), req.headers, req.method, req.url);
    },
    startRequest(state, headers, method, url) {
      const parent = headers.traceparent === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, headers, headerGetter);
      const path = url.split('?')[0] ?? url;
      const attributes: TraceAttributes = { 'http.request.method': method, 'url.path': path, 'portico.request_id': state.requestId };
      // The parent-based ratio decision, taken here so that the nine requests in ten the ratio
      // drops cost no SDK span at all (the sampler would decide the same: the request span's
      // trace id is the state's, or the client's).
      const parentContext = trace.getSpanContext(parent);
      const sampled = parentContext ? (parentContext.traceFlags & TraceFlags.SAMPLED) !== 0 : rootSampler.shouldSample(ROOT_CONTEXT, state.traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
      if (sampled) {
        const span = startSpan(`${method} ${path}`, parent, attributes, epochMs(state.startedAt), state.traceId, state.traceparent.slice(36, 52), SpanKind.SERVER);
        state.trace = sampledTrace(span);
        requestSpans.set(state, { span, parent, attributes });
        return;
      }
      // Not sampled: subgraphs are told so; when failures are kept, a few timestamps are noted.
      const unsampled = `00-${state.traceId}-`;
      const light: LightRecord = { spans: [] };
      requestSpans.set(state, { light: options.keepFailed ? light : undefined, parent, attributes });
      state.trace = {
        child(name, attrs) {
          const s = new LightSpan(name, unsampled, attrs);
          if (options.keepFailed && light.spans.length < 64) light.spans.push(s);
          return s;
        },
      };
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
      const r = requestSpans.get(state);
      if (!r) return;
      requestSpans.delete(state);
      const degraded = state.degraded.length;
      const failed = status >= 500;
      const end = epochMs(performance.now());
      // The operation as the lifecycle plugin noted it on the shared note (Apollo clones the context).
      const finalAttrs: TraceAttributes = {
        'graphql.operation.type': state.operation?.type,
        'graphql.operation.name': state.operation?.name,
        'http.response.status_code': status, 'portico.degraded': degraded > 0, 'portico.degraded_fetches': degraded || undefined, 'portico.probe': state.probe };
      if (r.span) {
        r.span.setAttributes(clean(finalAttrs));
        if (failed) r.span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
        r.span.end(end);
        return;
      }
      if (!r.light || (!failed && degraded === 0)) return;
      // Kept for failing: the request span and what it recorded become spans now, ids unchanged.
      const kept = failed ? 'error' : 'degraded';
      const path = String(r.attributes['url.path'] ?? '');
      const span = startSpan(`${String(r.attributes['http.request.method'])} ${path}`, r.parent, { ...r.attributes, ...finalAttrs, [KEPT_ATTRIBUTE]: kept }, epochMs(state.startedAt), state.traceId, state.traceparent.slice(36, 52), SpanKind.SERVER);
      if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
      const parent = trace.setSpan(ROOT_CONTEXT, span);
      for (const l of r.light.spans) {
        const child = startSpan(l.name, parent, { ...l.attributes, [KEPT_ATTRIBUTE]: kept }, epochMs(l.startedAt), undefined, l.spanId, l.name === 'subgraph fetch' ? SpanKind.CLIENT : SpanKind.INTERNAL);
        if (l.errorCode) child.setStatus({ code: SpanStatusCode.ERROR, message: l.errorCode });
        child.end(epochMs(l.endedAt ?? performance.now()));
      }
      span.end(end);
    },

    async flush() {
      await provider.forceFlush().catch((err: unknown) => log.warn({ err }, 'trace export failed'));
    },

    async shutdown() {
      if (stopped) return;
      stopped = true;
      await provider.shutdown().catch((err: unknown) => log.warn({ err }, 'trace export at shutdown failed'));
    },
  };
  return self;
}

/** A real span behind the small interface the request path uses. */
function wrap(span: Span): TraceSpan {
  const sc = span.spanContext();
  let ended = false;
  return {
    traceparent: `00-${sc.traceId}-${sc.spanId}-${sc.traceFlags & TraceFlags.SAMPLED ? '01' : '00'}`,
    set(key, value) {
      if (value !== undefined) span.setAttribute(key, value);
    },
    end(errorCode) {
      if (ended) return;
      ended = true;
      if (errorCode) {
        span.setAttribute('portico.error_code', errorCode);
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorCode });
      }
      span.end();
    },
  };
}

function clean(attributes: TraceAttributes | undefined): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attributes ?? {})) if (v !== undefined) out[k] = v;
  return out;
}
