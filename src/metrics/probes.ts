import { Gauge, type Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast.ts';
import type { ProbeResult } from '../probes/outcome.ts';

/** Probe latency: a product page answers in ~10–100 ms; a degraded one waits up to the timeout. */
const PROBE_DURATION_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface ProbeMetrics {
  /** `createProbes`' `onResult`. */
  onProbeResult(result: ProbeResult): void;
}

/** Synthetic probes (src/probes/): the `probe` label is a configured name (at most 20). */
export function createProbeMetrics(registers: Registry[]): ProbeMetrics {
  const runs = new FastCounter({
    name: 'portico_probe_runs_total',
    help: 'Synthetic probe runs by result: ok, degraded (answered with fields missing), failed.',
    labelNames: ['probe', 'result'] as const,
    registers,
  });
  const success = new Gauge({
    name: 'portico_probe_success',
    help: '1 when the last run of the probe answered whole (ok), 0 when degraded or failed.',
    labelNames: ['probe'] as const,
    registers,
  });
  const degradedFields = new Gauge({
    name: 'portico_probe_degraded_fields',
    help: 'Places in the last answer of the probe that were null or stale because a subgraph fetch failed.',
    labelNames: ['probe'] as const,
    registers,
  });
  const duration = new FastHistogram({
    name: 'portico_probe_duration_seconds',
    help: 'Wall time of synthetic probe runs, through the whole pipeline, s.',
    labelNames: ['probe'] as const,
    buckets: PROBE_DURATION_BUCKETS_S,
    registers,
  });
  return {
    onProbeResult(r) {
      runs.inc({ probe: r.probe, result: r.result });
      success.set({ probe: r.probe }, r.result === 'ok' ? 1 : 0);
      degradedFields.set({ probe: r.probe }, r.degradedFields);
      duration.observe({ probe: r.probe }, r.latencyMs / 1_000);
    },
  };
}
