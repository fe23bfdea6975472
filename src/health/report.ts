import type { ControlPlaneStatus } from '../controlPlane/index.ts';
import type { CacheStatus } from '../cache/index.ts';
import type { BreakerSnapshot, BreakerState } from '../resilience/breakers.ts';
import type { SupergraphState } from '../supergraph/fileSupergraphManager.ts';
import type { Readiness } from './readiness.ts';
import type { LastError, SubgraphStatsSnapshot, WindowStats } from './subgraphStats.ts';

/**
 * The body of `GET /health/subgraphs` on the ops listener: everything an operator needs to see
 * which subgraph hurts, from one instance, as JSON (the status page renders it). Pure.
 * Never holds a subgraph URL, an address, a token or a response body; the one exception is the
 * control plane's supergraph URLs (query strings cut: pre-signed URLs carry credentials there),
 * which an operator needs to see to know which registry or mirror is down.
 */

/** What the rate limiter reports about itself; filled by the rate-limit integration. */
export interface LimiterStatus {
  /** `redis`, `local-fallback` or `memory`. */
  readonly mode: string;
  readonly [detail: string]: unknown;
}

export interface BreakerView {
  key: string;
  state: BreakerState;
  openedAt: string | null;
  /** Why it last opened: `failures`, `slow_calls`, `slow_probe` or `forced`; null while it never has. */
  openReason: BreakerSnapshot['openReason'] | null;
  /** Calls slower than this count as slow, ms. */
  slowCallMs: number | null;
  window: BreakerSnapshot['window'];
}

export interface SubgraphHealth {
  name: string;
  /** Worst breaker state of the subgraph: what its row is coloured by. */
  state: BreakerState;
  inFlight: number;
  breakers: BreakerView[];
  windows: Record<'1m' | '5m', WindowStats>;
  lastError: LastError | null;
  /** Share of this subgraph's cache lookups answered from the cache since start; null: none yet or cache off. */
  cacheHitRatio: number | null;
}

export interface HealthReport {
  instance: string;
  generatedAt: string;
  gateway: {
    lifecycle: string;
    ready: boolean;
    status: Readiness['body']['status'];
    reasons: string[];
    supergraph: {
      hash: string;
      loadedAt: string;
      lastRejection: { at: string; reason: string } | null;
      reloads: SupergraphState['reloads'];
    } | null;
    limiter: LimiterStatus | null;
    /** Where the supergraph came from, since when, its age, the canary and the last decision. */
    controlPlane: ControlPlaneStatus | null;
    /** The entity cache: levels, L1 size and counters per subgraph; null when not wired. */
    cache: CacheStatus | null;
  };
  subgraphs: SubgraphHealth[];
}

export interface HealthReportInput {
  instance: string;
  now: Date;
  lifecycle: string;
  readiness: Readiness;
  /** Undefined before the first load. */
  supergraph: SupergraphState | undefined;
  limiter: LimiterStatus | undefined;
  controlPlane?: ControlPlaneStatus | undefined;
  /** Subgraphs of the supergraph (listed even before their first call). */
  subgraphNames: readonly string[];
  breakers: readonly BreakerSnapshot[];
  stats: (subgraph: string) => SubgraphStatsSnapshot;
  cache?: CacheStatus | undefined;
}

/** Worst first: the state an operator must see first. */
const SEVERITY: Readonly<Record<BreakerState, number>> = { closed: 0, 'forced-closed': 1, 'half-open': 2, open: 3, 'forced-open': 4 };

export function buildHealthReport(input: HealthReportInput): HealthReport {
  const names = new Set([...input.subgraphNames, ...input.breakers.map((b) => b.subgraph)]);
  const subgraphs = [...names].sort().map((name): SubgraphHealth => {
    const breakers = input.breakers
      .filter((b) => b.subgraph === name)
      .sort((a, b) => a.key.localeCompare(b.key))
      .map((b) => ({ key: b.key, state: b.state, openedAt: b.openedAt ?? null, openReason: b.openReason ?? null, slowCallMs: b.slowCallMs ?? null, window: b.window }));
    const stats = input.stats(name);
    const state = breakers.reduce<BreakerState>((worst, b) => (SEVERITY[b.state] > SEVERITY[worst] ? b.state : worst), 'closed');
    const cacheHitRatio = input.cache?.subgraphs[name]?.hitRatio ?? null;
    return { name, state, inFlight: stats.inFlight, breakers, windows: stats.windows, lastError: stats.lastError, cacheHitRatio };
  });
  const sg = input.supergraph;
  return {
    instance: input.instance,
    generatedAt: input.now.toISOString(),
    gateway: {
      lifecycle: input.lifecycle,
      ready: input.readiness.ready,
      status: input.readiness.body.status,
      reasons: input.readiness.body.reasons,
      supergraph: sg
        ? {
            hash: sg.hash,
            loadedAt: sg.loadedAt.toISOString(),
            lastRejection: sg.lastRejection ? { at: sg.lastRejection.at.toISOString(), reason: sg.lastRejection.reason } : null,
            reloads: sg.reloads,
          }
        : null,
      limiter: input.limiter ?? null,
      controlPlane: input.controlPlane ?? null,
      cache: input.cache ?? null,
    },
    subgraphs,
  };
}
