import { sparklinePath, timelineSegments, type StatusHistory } from '../health/history.ts';
import type { ProbeResult } from '../probes/outcome.ts';
import type { BreakerSnapshot } from '../resilience/breakers.ts';

/**
 * `GET /status/data`: what the status page draws, computed here so the page only places it —
 * per subgraph the sparkline paths (call rate, error rate, p99 over 15 minutes), per breaker
 * key its timeline, the probes' recent results, the supergraph served, and any extra sections
 * other parts register (canary, cache...): a section is a title and a few rows of values.
 */

/** Sparkline box, SVG user units (the page scales it to its column). */
export const SPARK_WIDTH = 240;
export const SPARK_HEIGHT = 36;

/** An extra block on the status page: rows of label → value, rendered as text. */
export interface StatusSection {
  /** Stable id, used as `data-section` (tests, links). */
  readonly id: string;
  readonly title: string;
  /** Read on every refresh; must be cheap and must not throw. */
  readonly rows: () => Readonly<Record<string, string | number | boolean | null>>;
}

export interface StatusDataDeps {
  readonly history: StatusHistory;
  readonly breakers: () => readonly BreakerSnapshot[];
  readonly probes?: () => Record<string, readonly ProbeResult[]>;
  readonly supergraph: () => { hash: string; loadedAt: Date } | undefined;
  readonly sections?: readonly StatusSection[];
  /** Epoch ms. */
  readonly now?: () => number;
}

export function statusDataFor(deps: StatusDataDeps): () => unknown {
  const now = deps.now ?? Date.now;
  return () => {
    const t = now();
    const from = t - deps.history.windowMs;
    const series = deps.history.series();
    const transitions = deps.history.transitions();
    const subgraphs = Object.entries(series).map(([name, points]) => {
      const rates = points.map((p) => p.rate);
      const p99s = points.map((p) => p.p99);
      const maxRate = Math.max(0, ...rates);
      const maxP99 = Math.max(0, ...p99s.filter((v): v is number => v !== null));
      // The latest point with calls: an idle few seconds must not read as "recovered".
      const last = points.findLast((p) => p.rate > 0) ?? points.at(-1) ?? null;
      return {
        name,
        points: points.length,
        last,
        max: { rate: maxRate, p99: maxP99 },
        paths: {
          rate: sparklinePath(rates, SPARK_WIDTH, SPARK_HEIGHT),
          // Error rate on a fixed 0–100 % scale: a full-height line means every call failed.
          errorRate: sparklinePath(points.map((p) => p.errorRate), SPARK_WIDTH, SPARK_HEIGHT, 1),
          p99: sparklinePath(p99s, SPARK_WIDTH, SPARK_HEIGHT),
        },
      };
    });
    const breakers = deps.breakers().map((b) => {
      const own = transitions.filter((x) => x.key === b.key);
      return { key: b.key, subgraph: b.subgraph, state: b.state, transitions: own.length, segments: timelineSegments(own, b.state, from, t) };
    });
    const probes = Object.entries(deps.probes?.() ?? {}).map(([name, results]) => ({
      name,
      last: results[0] ?? null,
      // Oldest first, for a strip read left to right.
      recent: results.map((r) => ({ at: r.at, result: r.result, latencyMs: r.latencyMs })).reverse(),
    }));
    const sg = deps.supergraph();
    return {
      generatedAt: new Date(t).toISOString(),
      windowMs: deps.history.windowMs,
      sampleMs: deps.history.sampleMs,
      spark: { width: SPARK_WIDTH, height: SPARK_HEIGHT },
      supergraph: sg ? { hash: sg.hash, loadedAt: sg.loadedAt.toISOString() } : null,
      subgraphs,
      breakers,
      probes,
      sections: (deps.sections ?? []).map((s) => {
        try {
          return { id: s.id, title: s.title, rows: s.rows() };
        } catch {
          return { id: s.id, title: s.title, rows: { error: 'unavailable' } };
        }
      }),
    };
  };
}
