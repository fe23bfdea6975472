import CircuitBreaker from 'opossum';
import type { Logger } from '../logging/index.ts';
import { countsAgainstBreaker, SubgraphFailure } from './failures.ts';
import { SlowCallWindow, slowRateExceeded } from './slowCalls.ts';

// Defaults, each with its reason.
/** Stats over the last 10 s: long enough to see a trend at 1 req/s, short enough to react. */
export const DEFAULT_BREAKER_WINDOW_MS = 10_000;
/** At least 10 calls in the window before the breaker may open: one failure at low traffic never trips it. */
export const DEFAULT_BREAKER_VOLUME_THRESHOLD = 10;
/** Open when half the calls in the window fail: a healthy subgraph is far below, a dead one at 100 %. */
export const DEFAULT_BREAKER_ERROR_PERCENT = 50;
/** Stay open for one full window before probing, so a just-closed breaker starts on fresh stats and does not flap. */
export const DEFAULT_BREAKER_RESET_MS = 10_000;
/**
 * A call slower than half its timeout is slow: a healthy subgraph answers in tens of ms, so half
 * of a 2 s timeout (1 s) is ~20x its p99, yet a hang is noticed a full second before it times out.
 */
export const DEFAULT_SLOW_CALL_TIMEOUT_RATIO = 0.5;
/** Open when half of the recent calls are slow, the same share as for failures. */
export const DEFAULT_BREAKER_SLOW_CALL_PERCENT = 50;
/**
 * Slow calls are judged over the last 20 calls (see SlowCallWindow for why a count): 0.4 s of
 * traffic at 50 calls/s, and still 10 calls (the volume threshold) needed before opening.
 */
export const DEFAULT_BREAKER_SLOW_CALL_WINDOW = 20;
/** Calls still in flight are checked for slowness this often: a hang is seen within 0.1 s of the threshold. */
export const SLOW_CALL_SWEEP_MS = 100;
/**
 * A sweep later than this beyond its interval means our own event loop was stalled (GC, CPU
 * starvation, a burst of work): that time is not the subgraph's and is taken off every call in
 * flight. Without it, an overloaded gateway judged healthy subgraphs slow and opened their
 * breakers (seen in the chaos suite at start-up on a saturated 2-core machine).
 */
export const STALL_TOLERANCE_MS = 20;

export interface BreakerOptions {
  /** Rolling window, ms. Default {@link DEFAULT_BREAKER_WINDOW_MS}. */
  windowMs?: number;
  /** Minimum calls in the window before the breaker may open. */
  volumeThreshold?: number;
  /** Failure percentage that opens the breaker. */
  errorThresholdPercent?: number;
  /** Time open before one half-open probe, ms; kept >= windowMs. */
  resetTimeoutMs?: number;
  /** Share of slow calls among the recent ones that opens the breaker, %. Default {@link DEFAULT_BREAKER_SLOW_CALL_PERCENT}. */
  slowCallPercent?: number;
  /** How many recent calls the slow-call rate is taken over. Default {@link DEFAULT_BREAKER_SLOW_CALL_WINDOW}. */
  slowCallWindow?: number;
}

export interface BreakerDeps {
  logger: Logger;
  /** Monotonic clock, ms. Default `performance.now`. */
  now?: () => number;
}

/** Why a breaker opened: its failure rate (opossum), its slow-call rate, a slow half-open probe, or an operator. */
export type OpenReason = 'failures' | 'slow_calls' | 'slow_probe' | 'forced';

export type BreakerState = 'closed' | 'open' | 'half-open' | 'forced-open' | 'forced-closed';

export interface BreakerSnapshot {
  key: string;
  subgraph: string;
  state: BreakerState;
  /**
   * Calls, failures, rejections in the rolling window (every caller counts, deduplicated ones
   * too); `slow` of `recent` is the slow-call rate's window.
   */
  window: { fires: number; failures: number; rejects: number; successes: number; recent: number; slow: number };
  /** A call slower than this is slow, ms; undefined until the key was called. */
  slowCallMs: number | undefined;
  openedAt: string | undefined;
  /** Why it last opened; undefined while it never has. */
  openReason: OpenReason | undefined;
}

export type BreakerTransitionListener = (e: { key: string; subgraph: string; from: BreakerState; to: BreakerState; reason?: OpenReason }) => void;

export interface BreakerRegistry {
  /**
   * Runs `fn` through the breaker of `key`. Rejects with a `circuit_open` {@link SubgraphFailure}
   * when open (or forced open), without calling `fn`. With `slowCallMs`, a call running longer
   * counts as slow while it is still in flight.
   */
  fire<T>(subgraph: string, key: string, fn: () => Promise<T>, slowCallMs?: number): Promise<T>;
  snapshot(): BreakerSnapshot[];
  /** State of one key (`closed` before its first call); cheap, for a trace attribute. */
  state(key: string): BreakerState;
  /** Admin override; `auto` returns the key (or every key of a subgraph) to normal operation. */
  force(keyOrSubgraph: string, mode: 'open' | 'closed' | 'auto'): string[];
  onTransition(listener: BreakerTransitionListener): void;
  shutdown(): void;
}

/** A call in flight through a breaker, for slow-call detection. */
interface Call {
  /** On the stall-free clock (see `subgraphClock`). */
  readonly startedAt: number;
  /** Fired while the breaker was half-open: this call is the probe. */
  readonly probe: boolean;
  /** Already counted slow (while in flight). */
  flagged: boolean;
}

interface Entry {
  subgraph: string;
  breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  openedAt: Date | undefined;
  forced: 'open' | 'closed' | undefined;
  /** Set just before we open the breaker ourselves; read by the transition that follows. */
  pendingReason: OpenReason | undefined;
  openReason: OpenReason | undefined;
  slow: SlowCallWindow;
  slowCallMs: number | undefined;
  /** In start order, so a sweep stops at the first call that is not slow yet. */
  inFlight: Map<number, Call>;
}

/**
 * One opossum breaker per subgraph × field group (`pricing:Product`, `product:Query.products`),
 * created lazily. Breaker state is per instance by design: each instance judges the subgraph
 * from its own calls, and sharing state would couple instances through Redis on the hot path.
 */
export function createBreakerRegistry(options: BreakerOptions, deps: BreakerDeps): BreakerRegistry {
  const windowMs = options.windowMs ?? DEFAULT_BREAKER_WINDOW_MS;
  const volumeThreshold = options.volumeThreshold ?? DEFAULT_BREAKER_VOLUME_THRESHOLD;
  const slowPercent = options.slowCallPercent ?? DEFAULT_BREAKER_SLOW_CALL_PERCENT;
  const slowWindow = options.slowCallWindow ?? DEFAULT_BREAKER_SLOW_CALL_WINDOW;
  const now = deps.now ?? (() => performance.now());
  const settings = {
    // Our own timeout aborts each call with its own AbortController; opossum's timer would share
    // one controller per breaker and abort unrelated concurrent calls.
    timeout: false as const,
    rollingCountTimeout: windowMs,
    rollingCountBuckets: 10,
    // We never read opossum's latency percentiles (Prometheus has ours); kept on, it stores every
    // call's latency and sorts the whole window on each failure.
    rollingPercentilesEnabled: false,
    volumeThreshold,
    errorThresholdPercentage: options.errorThresholdPercent ?? DEFAULT_BREAKER_ERROR_PERCENT,
    resetTimeout: Math.max(options.resetTimeoutMs ?? DEFAULT_BREAKER_RESET_MS, windowMs),
    // Return true = "not a failure": 4xx, our own deadline, a client gone and the bulkhead do not count.
    errorFilter: (err: unknown) => !countsAgainstBreaker(err),
  };
  const entries = new Map<string, Entry>();
  const listeners: BreakerTransitionListener[] = [];
  /** Overrides for a whole subgraph, so it holds for keys not called yet ("bypass pricing"). */
  const subgraphForced = new Map<string, 'open' | 'closed'>();
  const log = deps.logger.child({ component: 'breaker' });
  let nextCallId = 0;
  let sweeper: ReturnType<typeof setInterval> | undefined;
  /** Our own event-loop stalls so far, ms, as the sweeps measured them. */
  let stalledMs = 0;
  let lastSweepAt = now();
  /**
   * Time as the subgraphs experienced it: the monotonic clock less our own stalls. Elapsed time
   * on this clock is what a call cost the subgraph, whatever our event loop was doing meanwhile.
   */
  const subgraphClock = () => now() - stalledMs;

  function forcedOf(e: Entry): 'open' | 'closed' | undefined {
    return e.forced ?? subgraphForced.get(e.subgraph);
  }

  function stateOf(e: Entry): BreakerState {
    const forced = forcedOf(e);
    if (forced === 'open') return 'forced-open';
    if (forced === 'closed') return 'forced-closed';
    if (e.breaker.opened) return 'open';
    if (e.breaker.halfOpen) return 'half-open';
    return 'closed';
  }

  function emit(key: string, e: Entry, from: BreakerState, to: BreakerState, reason?: OpenReason) {
    const s = e.breaker.stats;
    const recent = e.slow.counts(subgraphClock());
    log.warn(
      {
        event: 'breaker_transition',
        key,
        subgraph: e.subgraph,
        from,
        to,
        reason,
        window: { fires: s.fires, failures: s.failures, rejects: s.rejects, recent: recent.calls, slow: recent.slow, slowCallMs: e.slowCallMs },
      },
      `breaker ${key}: ${from} -> ${to}${reason ? ` (${reason.replace('_', ' ')})` : ''}`,
    );
    for (const l of listeners) l(reason ? { key, subgraph: e.subgraph, from, to, reason } : { key, subgraph: e.subgraph, from, to });
  }

  /** Opens a breaker for a reason opossum does not see (slow calls). */
  function openFor(e: Entry, reason: OpenReason) {
    e.pendingReason = reason;
    e.breaker.open();
    e.pendingReason = undefined;
  }

  /** A call just counted slow: does it open the breaker? */
  function judgeSlow(e: Entry, call: Call, at: number) {
    if (forcedOf(e)) return;
    // The half-open probe is the only evidence there is: slow means not recovered.
    if (call.probe) openFor(e, 'slow_probe');
    else if (e.breaker.closed && slowRateExceeded(e.slow.counts(at), volumeThreshold, slowPercent)) openFor(e, 'slow_calls');
  }

  /** Counts the calls that have been in flight past their slow threshold, without waiting for them to end. */
  function sweep() {
    const wall = now();
    const late = wall - lastSweepAt - SLOW_CALL_SWEEP_MS;
    lastSweepAt = wall;
    if (late > STALL_TOLERANCE_MS) stalledMs += late;
    const at = subgraphClock();
    for (const e of entries.values()) {
      if (e.inFlight.size === 0 || e.slowCallMs === undefined) continue;
      const slowBefore = at - e.slowCallMs;
      for (const call of e.inFlight.values()) {
        if (call.startedAt > slowBefore) break;
        if (call.flagged) continue;
        call.flagged = true;
        e.slow.record(at, true);
        judgeSlow(e, call, at);
      }
    }
  }

  function entry(subgraph: string, key: string): Entry {
    let e = entries.get(key);
    if (e) return e;
    const breaker = new CircuitBreaker((fn: () => Promise<unknown>) => fn(), settings);
    const created: Entry = {
      subgraph,
      breaker,
      openedAt: undefined,
      forced: undefined,
      pendingReason: undefined,
      openReason: undefined,
      slow: new SlowCallWindow(slowWindow, windowMs),
      slowCallMs: undefined,
      inFlight: new Map(),
    };
    let last: BreakerState = 'closed';
    const track = () => {
      const next = stateOf(created);
      let reason: OpenReason | undefined;
      if (next === 'open' && last !== 'open') {
        created.openedAt = new Date();
        reason = created.pendingReason ?? 'failures';
        created.openReason = reason;
      }
      if (next === 'closed') {
        created.openedAt = undefined;
        // A breaker that closes judges the subgraph on calls made from now on.
        created.slow.clear();
      }
      if (next !== last) {
        const from = last;
        last = next;
        emit(key, created, from, next, reason);
      }
    };
    breaker.on('open', track);
    breaker.on('halfOpen', track);
    breaker.on('close', track);
    entries.set(key, created);
    e = created;
    return e;
  }

  async function fireTracked<T>(e: Entry, fn: () => Promise<T>, slowCallMs: number): Promise<T> {
    e.slowCallMs = slowCallMs;
    if (sweeper === undefined) {
      lastSweepAt = now();
      sweeper = setInterval(sweep, SLOW_CALL_SWEEP_MS);
      sweeper.unref();
    }
    const id = nextCallId++;
    const call: Call = { startedAt: subgraphClock(), probe: e.breaker.halfOpen, flagged: false };
    e.inFlight.set(id, call);
    let counted = true;
    try {
      return (await e.breaker.fire(fn)) as T;
    } catch (err) {
      // A client gone or our own deadline says nothing about the subgraph's speed either.
      counted = countsAgainstBreaker(err) && (err as { code?: string }).code !== 'EOPENBREAKER';
      throw err;
    } finally {
      e.inFlight.delete(id);
      if (!call.flagged && counted) {
        const at = subgraphClock();
        const slow = at - call.startedAt >= slowCallMs;
        e.slow.record(at, slow);
        if (slow) judgeSlow(e, call, at);
      }
    }
  }

  return {
    async fire<T>(subgraph: string, key: string, fn: () => Promise<T>, slowCallMs?: number): Promise<T> {
      const e = entry(subgraph, key);
      const forced = forcedOf(e);
      if (forced === 'open') throw new SubgraphFailure('circuit_open', 'circuit open (forced by an operator)');
      if (forced === 'closed') return fn();
      try {
        return slowCallMs === undefined ? ((await e.breaker.fire(fn)) as T) : await fireTracked(e, fn, slowCallMs);
      } catch (err) {
        if ((err as { code?: string }).code === 'EOPENBREAKER') {
          throw new SubgraphFailure('circuit_open', e.openReason === 'failures' ? 'circuit open after repeated failures' : 'circuit open after repeated slow calls');
        }
        throw err;
      }
    },
    state(key) {
      const e = entries.get(key);
      return e ? stateOf(e) : 'closed';
    },
    snapshot() {
      const at = subgraphClock();
      return [...entries].map(([key, e]) => {
        const s = e.breaker.stats;
        const recent = e.slow.counts(at);
        return {
          key,
          subgraph: e.subgraph,
          state: stateOf(e),
          window: { fires: s.fires, failures: s.failures, rejects: s.rejects, successes: s.successes, recent: recent.calls, slow: recent.slow },
          slowCallMs: e.slowCallMs,
          openedAt: e.openedAt?.toISOString(),
          openReason: e.openReason,
        };
      });
    },
    force(keyOrSubgraph, mode) {
      const touched: string[] = [];
      const wholeSubgraph = !keyOrSubgraph.includes(':');
      const before = new Map([...entries].map(([k, e]) => [k, stateOf(e)]));
      if (wholeSubgraph) {
        if (mode === 'auto') subgraphForced.delete(keyOrSubgraph);
        else subgraphForced.set(keyOrSubgraph, mode);
      }
      for (const [key, e] of entries) {
        if (key !== keyOrSubgraph && e.subgraph !== keyOrSubgraph) continue;
        const from = before.get(key)!;
        e.forced = mode === 'auto' || wholeSubgraph ? undefined : mode;
        const to = stateOf(e);
        if (from !== to) emit(key, e, from, to, to === 'forced-open' ? 'forced' : undefined);
        touched.push(key);
      }
      if (wholeSubgraph && touched.length === 0) touched.push(`${keyOrSubgraph}:*`);
      if (touched.length === 0 && !wholeSubgraph && mode !== 'auto') {
        // Forcing a key that has not been called yet: create it so the override holds.
        const e = entry(keyOrSubgraph.slice(0, keyOrSubgraph.indexOf(':')), keyOrSubgraph);
        const from = stateOf(e);
        e.forced = mode;
        emit(keyOrSubgraph, e, from, stateOf(e), mode === 'open' ? 'forced' : undefined);
        touched.push(keyOrSubgraph);
      }
      return touched;
    },
    onTransition(listener) {
      listeners.push(listener);
    },
    shutdown() {
      if (sweeper !== undefined) clearInterval(sweeper);
      sweeper = undefined;
      for (const e of entries.values()) e.breaker.shutdown();
    },
  };
}
