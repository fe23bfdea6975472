import type { BreakerSnapshot } from '../resilience/breakers.ts';

export interface Readiness {
  ready: boolean;
  body: { status: 'ready' | 'degraded' | 'starting' | 'draining' | 'stopped'; reasons: string[] };
}

/**
 * Readiness for the load balancer. Ready means "send me traffic": false while starting and
 * draining only. A down subgraph or Redis does NOT make an instance unready — every instance
 * sees the same subgraph, so failing readiness would eject all of them at once. The body says
 * "degraded" and why, for humans. Pure.
 */
export function readinessOf(
  lifecycle: 'created' | 'starting' | 'ready' | 'draining' | 'stopped',
  breakers: readonly BreakerSnapshot[],
  extraReasons: readonly string[] = [],
): Readiness {
  switch (lifecycle) {
    case 'created':
    case 'starting':
      return { ready: false, body: { status: 'starting', reasons: ['supergraph not loaded yet'] } };
    case 'draining':
      return { ready: false, body: { status: 'draining', reasons: ['shutting down'] } };
    case 'stopped':
      return { ready: false, body: { status: 'stopped', reasons: [] } };
    case 'ready': {
      const reasons = [
        ...breakers.filter((b) => b.state === 'open' || b.state === 'forced-open' || b.state === 'half-open').map((b) => `breaker ${b.key} is ${b.state}`),
        ...extraReasons,
      ];
      return { ready: true, body: { status: reasons.length ? 'degraded' : 'ready', reasons } };
    }
  }
}
