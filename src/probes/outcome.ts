/**
 * What one probe run shows, judged from the gateway's own answer. Pure.
 * `ok`: HTTP 200, no errors; `degraded`: HTTP 200 with fields the gateway could not fetch (the
 * page rendered with holes); `failed`: anything else (refused, 5xx, errors, timeout, no answer).
 */
export type ProbeResultKind = 'ok' | 'degraded' | 'failed';

export interface ProbeResult {
  readonly probe: string;
  /** ISO time the run started. */
  readonly at: string;
  readonly result: ProbeResultKind;
  /** HTTP status, 0 when no answer arrived. */
  readonly status: number;
  readonly latencyMs: number;
  /** Places in the answer that are null (or stale) because a subgraph fetch failed. */
  readonly degradedFields: number;
  /** Subgraphs whose fetches failed, from `extensions.degraded`. */
  readonly degradedServices: readonly string[];
  /** Error codes of the answer, or the transport failure. */
  readonly errorCodes: readonly string[];
}

interface Body {
  data?: unknown;
  errors?: { extensions?: { code?: unknown } }[];
  extensions?: { degraded?: { service?: unknown; count?: unknown; code?: unknown }[] };
}

/** Classifies an answer (or a transport failure when `status` is 0). */
export function judgeProbe(probe: string, at: Date, status: number, latencyMs: number, body: unknown, transportError?: string): ProbeResult {
  const b = (body && typeof body === 'object' ? body : {}) as Body;
  const degraded = Array.isArray(b.extensions?.degraded) ? b.extensions.degraded : [];
  const degradedFields = degraded.reduce((n, d) => n + (typeof d.count === 'number' ? d.count : 1), 0);
  const degradedServices = [...new Set(degraded.map((d) => String(d.service)))];
  const errors = Array.isArray(b.errors) ? b.errors : [];
  const errorCodes = transportError ? [transportError] : [...new Set(errors.map((e) => String(e.extensions?.code ?? 'UNKNOWN')))];
  // A degraded answer carries a coded error per failed fetch; any other error fails the probe.
  const degradedCodes = new Set(degraded.map((d) => String(d.code)));
  const otherErrors = errors.filter((e) => !degradedCodes.has(String(e.extensions?.code)));
  const result: ProbeResultKind =
    status !== 200 || b.data === undefined || b.data === null || otherErrors.length > 0 ? 'failed' : degraded.length > 0 ? 'degraded' : 'ok';
  return { probe, at: at.toISOString(), result, status, latencyMs: Math.round(latencyMs * 10) / 10, degradedFields, degradedServices, errorCodes };
}
