import { Counter, type Registry } from 'prom-client';
import type { JwksFetchOutcome } from '../auth/jwks.ts';

const RELOAD_OUTCOMES = ['success', 'failure', 'unchanged'] as const;
const JWKS_OUTCOMES: readonly JwksFetchOutcome[] = ['success', 'failure', 'stale'];

/** Where the supergraph and the token keys come from. */
export interface ControlPlaneMetrics {
  /** The `onJwksFetch` dep of the token verifier. */
  onJwksFetch(outcome: JwksFetchOutcome): void;
  /** The supergraph manager's `onReload`. */
  onSupergraphReload(outcome: 'success' | 'failure' | 'unchanged'): void;
}

export function createControlPlaneMetrics(registers: Registry[]): ControlPlaneMetrics {
  const reloads = new Counter({
    name: 'portico_supergraph_reloads_total',
    help: 'Supergraph reload attempts, by outcome (failure: rejected, the last good one keeps serving).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const jwks = new Counter({
    name: 'portico_jwks_fetches_total',
    help: 'JWKS fetches from the identity provider, by outcome (stale: a failed fetch answered from the last good keys).',
    labelNames: ['outcome'] as const,
    registers,
  });

  // Alerts use increase() on these: a first event must be an increase from 0, not a new series.
  for (const outcome of RELOAD_OUTCOMES) reloads.inc({ outcome }, 0);
  for (const outcome of JWKS_OUTCOMES) jwks.inc({ outcome }, 0);

  return {
    onJwksFetch(outcome) {
      jwks.inc({ outcome: JWKS_OUTCOMES.includes(outcome) ? outcome : 'failure' });
    },
    onSupergraphReload(outcome) {
      reloads.inc({ outcome });
    },
  };
}
