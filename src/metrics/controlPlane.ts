import { Gauge, type Registry } from 'prom-client';
import { FastCounter } from './fast.ts';
import type { JwksFetchOutcome } from '../auth/jwks.ts';
import { FETCH_OUTCOMES, SOURCE_KINDS, type ControlPlaneEvents, type ControlPlaneStatus, type FetchOutcome, type Lane, type SourceKind } from '../controlPlane/index.ts';

const RELOAD_OUTCOMES = ['success', 'failure', 'unchanged'] as const;
const JWKS_OUTCOMES: readonly JwksFetchOutcome[] = ['success', 'failure', 'stale'];
const CANARY_EVENTS = ['started', 'promoted', 'rolled_back'] as const;

/** Where the supergraph and the token keys come from. */
export interface ControlPlaneMetrics extends Required<ControlPlaneEvents> {
  /** The `onJwksFetch` dep of the token verifier. */
  onJwksFetch(outcome: JwksFetchOutcome): void;
  /** The supergraph manager's `onReload`. */
  onSupergraphReload(outcome: 'success' | 'failure' | 'unchanged'): void;
  /** Gauges read the control plane's status at scrape time. */
  bindControlPlane(status: () => ControlPlaneStatus): void;
}

export function createControlPlaneMetrics(registers: Registry[]): ControlPlaneMetrics {
  let status: (() => ControlPlaneStatus) | undefined;
  const reloads = new FastCounter({
    name: 'portico_supergraph_reloads_total',
    help: 'Supergraph reload attempts, by outcome (failure: rejected, the last good one keeps serving).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const jwks = new FastCounter({
    name: 'portico_jwks_fetches_total',
    help: 'JWKS fetches from the identity provider, by outcome (stale: a failed fetch answered from the last good keys).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const fetches = new FastCounter({
    name: 'portico_supergraph_fetches_total',
    help: 'Supergraph deliveries by source (http, redis, cache) and outcome (not_modified: a 304, nothing read; refused: too large or badly signed).',
    labelNames: ['source', 'outcome'] as const,
    registers,
  });
  const canary = new FastCounter({
    name: 'portico_supergraph_canary_total',
    help: 'Canary events: started, promoted, rolled_back (by the automatic judge, an admin, or another instance through Redis).',
    labelNames: ['event'] as const,
    registers,
  });
  const canaryRequests = new FastCounter({
    name: 'portico_supergraph_canary_requests_total',
    help: 'Requests while a canary runs, by lane (stable, canary) and whether they failed (GraphQL error, degraded field, 5xx).',
    labelNames: ['lane', 'failed'] as const,
    registers,
  });
  new Gauge({
    name: 'portico_supergraph_age_seconds',
    help: 'Age of the supergraph served (since it was first served, across a cold start from the disk cache).',
    registers,
    collect() {
      const s = status?.().serving;
      if (s) this.set(s.ageS);
    },
  });
  new Gauge({
    name: 'portico_supergraph_from_cache',
    help: '1 while the supergraph served came from the disk cache (every source was down at start).',
    registers,
    collect() {
      this.set(status?.().serving?.source.startsWith('cache:') ? 1 : 0);
    },
  });
  new Gauge({
    name: 'portico_supergraph_canary_active',
    help: '1 while a canary supergraph serves a share of requests.',
    registers,
    collect() {
      this.set(status?.().canary ? 1 : 0);
    },
  });

  // Alerts use increase() on these: a first event must be an increase from 0, not a new series.
  for (const outcome of RELOAD_OUTCOMES) reloads.inc({ outcome }, 0);
  for (const outcome of JWKS_OUTCOMES) jwks.inc({ outcome }, 0);
  for (const event of CANARY_EVENTS) canary.inc({ event }, 0);

  return {
    onJwksFetch(outcome) {
      jwks.inc({ outcome: JWKS_OUTCOMES.includes(outcome) ? outcome : 'failure' });
    },
    onSupergraphReload(outcome) {
      reloads.inc({ outcome });
    },
    onReload(outcome) {
      reloads.inc({ outcome });
    },
    onFetch(source: SourceKind, outcome: FetchOutcome) {
      if (SOURCE_KINDS.includes(source) && FETCH_OUTCOMES.includes(outcome)) fetches.inc({ source, outcome });
    },
    onCanary(event) {
      canary.inc({ event });
    },
    onCanaryRequest(lane: Lane, failed: boolean) {
      canaryRequests.inc({ lane, failed: failed ? 'true' : 'false' });
    },
    bindControlPlane(s) {
      status = s;
    },
  };
}
