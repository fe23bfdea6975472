import { createOtlpHttpExportDelegate, convertLegacyHttpOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import type { TraceAttributes } from '../request/context.ts';
import type { Logger } from '../logging/index.ts';
import { exportBody } from './export.ts';
import { extend } from '../runtime/objects.ts';

/**
 * Spans waiting to be exported, already written as OTLP JSON bytes (./export.ts), sent in batches by
 * the official OTLP/HTTP export delegate (`@opentelemetry/otlp-exporter-base`, what the SDK's
 * `OTLPTraceExporter` is built from: its HTTP agent, timeouts, retries of retryable answers,
 * concurrency limit and `OTEL_EXPORTER_OTLP_*` settings) with a serializer that only wraps them.
 * The rules are the SDK batch span processor's defaults: a batch at 512 spans or after 5 s,
 * at most 2048 waiting (more are dropped and counted: tracing never holds memory or a request
 * for a receiver that is down).
 */
export interface SpanBatcherOptions {
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly resource: TraceAttributes;
  readonly timeoutMs: number;
  readonly maxBatch?: number;
  readonly maxQueue?: number;
  readonly delayMs?: number;
}

export interface SpanBatcher {
  /** A request's spans (`count` of them) as JSON list items (./export.ts `spanItems`). */
  add(items: Buffer, count: number): void;
  /** Sends everything waiting and waits for the sends in flight. */
  flush(): Promise<void>;
  /** Flushes, then closes the exporter. */
  shutdown(): Promise<void>;
  /** Spans dropped so far because the queue was full. */
  readonly dropped: number;
}

const MAX_BATCH = 512;
const MAX_QUEUE = 2048;
const DELAY_MS = 5_000;
/** A failing receiver is said at most this often. */
const WARN_EVERY_MS = 60_000;

export function createSpanBatcher(options: SpanBatcherOptions, logger: Logger): SpanBatcher {
  const maxBatch = options.maxBatch ?? MAX_BATCH;
  const maxQueue = options.maxQueue ?? MAX_QUEUE;
  const delayMs = options.delayMs ?? DELAY_MS;
  const serializer = {
    serializeRequest: (items: Buffer[]) => exportBody(options.resource, items),
    // An OTLP answer may report a partial success; the delegate logs it through `diag`.
    deserializeResponse: (data: Uint8Array) => JSON.parse(Buffer.from(data).toString('utf8')) as unknown,
  };
  const delegate = createOtlpHttpExportDelegate(
    convertLegacyHttpOptions({ url: options.endpoint, headers: { ...options.headers }, timeoutMillis: options.timeoutMs }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/json' }),
    serializer as never,
  );

  let queue: Buffer[] = [];
  let queued = 0;
  let dropped = 0;
  let timer: NodeJS.Timeout | undefined;
  let lastWarn = 0;

  function send(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0) return;
    const batch = queue;
    const spans = queued;
    queue = [];
    queued = 0;
    delegate.export(batch as never, (result: { code: number; error?: Error }) => {
      if (result.code !== 0) warn(`trace export failed: ${result.error?.message ?? 'unknown'} (${spans} spans lost)`, { event: 'trace_export_failed', spans, err: result.error?.message });
    });
  }

  /** A receiver that is away is said at most once a minute, however many batches it loses. */
  function warn(message: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - lastWarn < WARN_EVERY_MS) return;
    lastWarn = now;
    logger.warn(extend(fields, { dropped }), `${message}; ${dropped} spans dropped so far for a full queue (said at most once a minute)`);
  }

  return {
    add(items, count) {
      if (queued + count > maxQueue) {
        dropped += count;
        warn('trace export queue full', { event: 'trace_spans_dropped' });
        return;
      }
      queue.push(items);
      queued += count;
      if (queued >= maxBatch) send();
      else if (!timer) {
        timer = setTimeout(send, delayMs);
        // A quiet gateway must be free to exit; shutdown flushes what waits.
        timer.unref();
      }
    },
    async flush() {
      send();
      await delegate.forceFlush();
    },
    async shutdown() {
      send();
      await delegate.shutdown();
    },
    get dropped() {
      return dropped;
    },
  };
}
