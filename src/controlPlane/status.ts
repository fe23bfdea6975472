import { laneSummary } from './canary.ts';
import type { ControlPlaneStatus, Decision, RunningCanary, Serving } from './types.ts';

/** The control plane's part of `/health/subgraphs` and `/status`, from its state at `nowMs`. */
export function statusView(
  s: { stable: Serving | undefined; canary: RunningCanary | undefined; percent: number; lastDecision: Decision | undefined; sources: ControlPlaneStatus['sources'] },
  nowMs: number,
): ControlPlaneStatus {
  const { stable, canary: c } = s;
  return {
    serving: stable ? { hash: stable.hash, since: stable.since.toISOString(), source: stable.source, ageS: Math.max(0, Math.round((nowMs - stable.since.getTime()) / 1000)) } : null,
    canary: c
      ? { hash: c.version.hash, source: c.version.source, percent: s.percent, startedAt: new Date(c.startedAt).toISOString(), verdict: c.verdict.reason, stable: laneSummary(c.stable), canary: laneSummary(c.canary) }
      : null,
    lastDecision: s.lastDecision ?? null,
    sources: s.sources,
  };
}
