import type { TraceAttributes, TraceSpan } from '../request/context.ts';
import { randomHex } from '../request/correlation.ts';

/**
 * The span of a request the sampler dropped: a few numbers kept on the request's own state, so
 * that a request which ends degraded or failed can still be exported (./index.ts). Its id is
 * the one its subgraph call carries (with the "not sampled" flag), so a replayed span keeps it.
 */
export class LightSpan implements TraceSpan {
  readonly spanId: string;
  readonly traceparent: string;
  readonly startedAt = performance.now();
  endedAt: number | undefined;
  errorCode: string | undefined;
  readonly attributes: TraceAttributes;

  /** `prefix` is `00-<trace id>-`. */
  constructor(
    readonly name: string,
    prefix: string,
    attributes: TraceAttributes | undefined,
  ) {
    // From the pooled randomness request ids use: one crypto call per id cost ~5 µs each.
    this.spanId = randomHex(8);
    this.traceparent = `${prefix}${this.spanId}-00`;
    // Callers pass a fresh literal; it becomes this span's own.
    this.attributes = attributes ?? {};
  }

  set(key: string, value: string | number | boolean | undefined): void {
    this.attributes[key] = value;
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

/** What an unsampled request keeps for a possible replay. */
export interface LightRecord {
  readonly spans: LightSpan[];
}
