/**
 * Defaults of the observability settings (issue 19), with a reason each. Kept apart from the
 * probe runner so `config/` reads constants without importing I/O.
 */

/** A probe every 30 s: a key path that breaks is seen within a minute, at 2 requests a minute per instance. */
export const DEFAULT_PROBE_INTERVAL_MS = 30_000;
/** Longer than the 5 s request deadline: a probe reports the gateway's answer, not its own timeout. */
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
/** The demo's probes, beside the demo's supergraph. A deployment without this file has no probes. */
export const DEFAULT_PROBES_FILE = 'schemas/probes.json';
/** The status page's history is sampled every 5 s: 180 points over its 15 minutes. */
export const DEFAULT_STATUS_SAMPLE_MS = 5_000;
/** 10 % of traces: enough to take any slow page apart, cheap enough to leave on (docs/benchmarks.md). */
export const DEFAULT_OTEL_SAMPLE_RATIO = 0.1;
/** The OTLP/HTTP default port on the local collector (agent) — loopback, never elsewhere by default. */
export const DEFAULT_OTLP_TRACES_ENDPOINT = 'http://127.0.0.1:4318/v1/traces';
