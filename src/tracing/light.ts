import type { TraceAttributes, TraceSpan } from '../request/context.ts';
import { randomHex } from '../request/correlation.ts';

/**
 * A span as a request records it: a name, two `performance.now()` readings, its attributes
 * and ids, on the request's own state. Nothing else happens while the request runs; whether it
 * is exported is decided when the request ends (./index.ts): a sampled request's spans are, an
 * unsampled one's only when the request turned out degraded or failed. Building the SDK's
 * `Span` objects on the request path instead cost about 10 % of a request's CPU at 10 %
 * sampling (docs/benchmarks.md, "Tracing").
 */
export class LightSpan implements TraceSpan {
  readonly spanId: string;
  readonly traceparent: string;
  readonly startedAt = performance.now();
  endedAt: number | undefined;
  errorCode: string | undefined;
  readonly attributes: TraceAttributes;
  /** `traceparent`s of spans this one waited on without being their child (a dedup leader's fetch). */
  links: string[] | undefined;

  /** `prefix` is `00-<trace id>-`, `flags` the W3C sampled flag the subgraph call carries (`01` / `00`). */
  constructor(
    readonly name: string,
    prefix: string,
    flags: string,
    attributes: TraceAttributes | undefined,
  ) {
    // From the pooled randomness request ids use: one crypto call per id cost ~5 µs each.
    this.spanId = randomHex(8);
    this.traceparent = `${prefix}${this.spanId}-${flags}`;
    // Callers pass a fresh literal; it becomes this span's own.
    this.attributes = attributes ?? {};
  }

  set(key: string, value: string | number | boolean | undefined): void {
    this.attributes[key] = value;
  }

  link(traceparent: string): void {
    (this.links ??= []).push(traceparent);
  }

  end(errorCode?: string): void {
    if (this.endedAt !== undefined) return;
    this.endedAt = performance.now();
    if (errorCode) {
      this.errorCode = errorCode;
      this.attributes['portico.error_code'] = errorCode;
    }
  }
}

/**
 * The one span every child of an unrecorded request gets (not sampled, and degraded or failed
 * requests not kept): nothing to remember, so nothing is made per span. Its `traceparent` is
 * the request's own, marked not sampled.
 */
export function unrecordedSpan(traceparent: string): TraceSpan {
  return {
    traceparent,
    set() {},
    end() {},
  };
}
