import type { BreakerState, BreakerTransitionListener } from '../resilience/breakers.ts';
import type { SubgraphCallObserver } from '../subgraphs/types.ts';
import { bucketOf, LATENCY_BOUNDS_MS, quantile } from './subgraphStats.ts';
import { extend } from '../runtime/objects.ts';

/**
 * The status page's pictures: per subgraph, call rate, error rate and p99 over the last 15
 * minutes, and the breaker state changes over the same span. An in-process ring buffer: calls
 * are counted into the open interval (a few array writes), and every `sampleMs` the interval is
 * closed into one point. Memory is fixed: `windowMs / sampleMs` points per subgraph. Pure apart
 * from the injected clock; the timer lives in `startSampling`.
 */

/** The span the page draws, ms. */
export const HISTORY_WINDOW_MS = 15 * 60_000;
/** Breaker transitions kept (a flapping breaker makes a few per minute; older ones drop off). */
export const MAX_TRANSITIONS = 500;
/** Most subgraphs tracked, as in the stats. */
const MAX_SUBGRAPHS = 256;

const BUCKETS = LATENCY_BOUNDS_MS.length + 1;

export interface HistoryPoint {
  /** End of the interval, epoch ms. */
  t: number;
  /** Calls per second over the interval. */
  rate: number;
  /** Failed / all; null when idle (a gap in the line, not a recovery). */
  errorRate: number | null;
  /** p99 of the calls sent in the interval, ms; null when none were sent. */
  p99: number | null;
}

export interface BreakerTransitionRecord {
  /** Epoch ms. */
  at: number;
  key: string;
  subgraph: string;
  from: BreakerState;
  to: BreakerState;
}

export interface StatusHistoryOptions {
  /** One point every this many ms. */
  sampleMs: number;
  windowMs?: number;
  /** Epoch ms. Default Date.now. */
  now?: () => number;
}

export interface StatusHistory {
  /** Data-source hook: counts calls into the open interval. */
  readonly observer: SubgraphCallObserver;
  /** `breakers.onTransition` listener. */
  readonly onBreakerTransition: BreakerTransitionListener;
  /** Closes the open interval into a point per subgraph seen so far. */
  sample(): void;
  /** Points per subgraph, oldest first, within the window. */
  series(): Record<string, HistoryPoint[]>;
  /** Transitions within the window, oldest first. */
  transitions(): BreakerTransitionRecord[];
  readonly windowMs: number;
  readonly sampleMs: number;
}

interface Open {
  calls: number;
  errors: number;
  latency: number[];
  points: HistoryPoint[];
}

export function createStatusHistory(options: StatusHistoryOptions): StatusHistory {
  const now = options.now ?? Date.now;
  const windowMs = options.windowMs ?? HISTORY_WINDOW_MS;
  const capacity = Math.max(2, Math.ceil(windowMs / options.sampleMs));
  const subgraphs = new Map<string, Open>();
  const transitions: BreakerTransitionRecord[] = [];
  let lastSample = now();

  function entry(name: string): Open | undefined {
    let e = subgraphs.get(name);
    if (!e && subgraphs.size < MAX_SUBGRAPHS) {
      e = { calls: 0, errors: 0, latency: new Array<number>(BUCKETS).fill(0), points: [] };
      subgraphs.set(name, e);
    }
    return e;
  }

  return {
    windowMs,
    sampleMs: options.sampleMs,
    observer: {
      started() {},
      finished(subgraph, _key, outcome, seconds) {
        const e = entry(subgraph);
        if (!e) return;
        e.calls++;
        // As in the stats: a client that left is no failure of the subgraph's.
        if (outcome !== 'success' && outcome !== 'client_gone') e.errors++;
        if (seconds > 0) e.latency[bucketOf(seconds * 1_000)]!++;
      },
    },
    onBreakerTransition({ key, subgraph, from, to }) {
      transitions.push({ at: now(), key, subgraph, from, to });
      if (transitions.length > MAX_TRANSITIONS) transitions.shift();
    },
    sample() {
      const t = now();
      const seconds = Math.max(0.001, (t - lastSample) / 1_000);
      lastSample = t;
      for (const e of subgraphs.values()) {
        const sent = e.latency.reduce((a, b) => a + b, 0);
        e.points.push({
          t,
          rate: Math.round((e.calls / seconds) * 100) / 100,
          errorRate: e.calls === 0 ? null : Math.round((e.errors / e.calls) * 1_000) / 1_000,
          p99: sent === 0 ? null : quantile(e.latency, sent, 0.99),
        });
        if (e.points.length > capacity) e.points.shift();
        e.calls = 0;
        e.errors = 0;
        e.latency.fill(0);
      }
    },
    series() {
      const since = now() - windowMs;
      const out: Record<string, HistoryPoint[]> = {};
      for (const [name, e] of [...subgraphs].sort(([a], [b]) => a.localeCompare(b))) out[name] = e.points.filter((p) => p.t > since);
      return out;
    },
    transitions() {
      const since = now() - windowMs;
      return transitions.filter((x) => x.at > since);
    },
  };
}

/** Samples `history` every `sampleMs` until the returned stop is called. */
export function startSampling(history: StatusHistory): () => void {
  const timer = setInterval(() => history.sample(), history.sampleMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * An SVG path (`d`) drawing `values` as a sparkline in a `width × height` box, left = oldest.
 * Gaps (null) break the line. The scale's top is `max` or the largest value (a flat 0 sits on
 * the bottom edge). Pure.
 */
export function sparklinePath(values: readonly (number | null)[], width: number, height: number, max?: number): string {
  if (values.length === 0) return '';
  const top = max ?? Math.max(0, ...values.filter((v): v is number => v !== null));
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const y = (v: number) => (top <= 0 ? height : height - (Math.min(v, top) / top) * height);
  let d = '';
  values.forEach((v, i) => {
    if (v === null) return;
    const x = values.length > 1 ? i * step : width / 2;
    const joined = i > 0 && values[i - 1] !== null;
    d += `${joined ? 'L' : 'M'}${round2(x)} ${round2(y(v))}`;
    // A point between two gaps would draw nothing: a short dash shows it.
    const alone = !joined && (i === values.length - 1 || values[i + 1] === null);
    if (alone) d += x >= width - 2 ? 'h-2' : 'h2';
  });
  return d;
}

export interface TimelineSegment {
  /** Fractions 0..1 of the window's width. */
  x0: number;
  x1: number;
  state: BreakerState;
}

/**
 * The states one breaker key went through between `from` and `to` (epoch ms) as segments, from
 * its transitions (any order) and its state now. Before the first transition in the window it
 * was in that transition's `from` state. Pure.
 */
export function timelineSegments(transitions: readonly BreakerTransitionRecord[], current: BreakerState, from: number, to: number): TimelineSegment[] {
  const span = Math.max(1, to - from);
  const inWindow = transitions.filter((t) => t.at > from && t.at <= to).sort((a, b) => a.at - b.at);
  const segments: TimelineSegment[] = [];
  let start = from;
  let state: BreakerState = inWindow[0]?.from ?? current;
  for (const t of inWindow) {
    if (t.at > start) segments.push({ x0: (start - from) / span, x1: (t.at - from) / span, state });
    start = t.at;
    state = t.to;
  }
  segments.push({ x0: (start - from) / span, x1: 1, state: inWindow.length ? state : current });
  return segments.map((s) => extend(s, { x0: round4(s.x0), x1: round4(s.x1) }));
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
function round4(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}
