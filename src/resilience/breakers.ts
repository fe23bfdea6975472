import CircuitBreaker from 'opossum';
import type { Logger } from '../logging/index.ts';
import { countsAgainstBreaker, SubgraphFailure } from './failures.ts';

// Defaults, each with its reason.
/** Stats over the last 10 s: long enough to see a trend at 1 req/s, short enough to react. */
export const DEFAULT_BREAKER_WINDOW_MS = 10_000;
/** At least 10 calls in the window before the breaker may open: one failure at low traffic never trips it. */
export const DEFAULT_BREAKER_VOLUME_THRESHOLD = 10;
/** Open when half the calls in the window fail: a healthy subgraph is far below, a dead one at 100 %. */
export const DEFAULT_BREAKER_ERROR_PERCENT = 50;
/** Stay open for one full window before probing, so a just-closed breaker starts on fresh stats and does not flap. */
export const DEFAULT_BREAKER_RESET_MS = 10_000;

export interface BreakerOptions {
  /** Rolling window, ms. Default {@link DEFAULT_BREAKER_WINDOW_MS}. */
  windowMs?: number;
  /** Minimum calls in the window before the breaker may open. */
  volumeThreshold?: number;
  /** Failure percentage that opens the breaker. */
  errorThresholdPercent?: number;
  /** Time open before one half-open probe, ms; kept >= windowMs. */
  resetTimeoutMs?: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open' | 'forced-open' | 'forced-closed';

export interface BreakerSnapshot {
  key: string;
  subgraph: string;
  state: BreakerState;
  /** Calls, failures, rejections in the rolling window. */
  window: { fires: number; failures: number; timeouts: number; rejects: number; successes: number };
  openedAt: string | undefined;
}

export type BreakerTransitionListener = (e: { key: string; subgraph: string; from: BreakerState; to: BreakerState }) => void;

export interface BreakerRegistry {
  /**
   * Runs `fn` through the breaker of `key`. Rejects with a `circuit_open` {@link SubgraphFailure}
   * when open (or forced open), without calling `fn`.
   */
  fire<T>(subgraph: string, key: string, fn: () => Promise<T>): Promise<T>;
  snapshot(): BreakerSnapshot[];
  /** Admin override; `auto` returns the key (or every key of a subgraph) to normal operation. */
  force(keyOrSubgraph: string, mode: 'open' | 'closed' | 'auto'): string[];
  onTransition(listener: BreakerTransitionListener): void;
  shutdown(): void;
}

interface Entry {
  subgraph: string;
  breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  openedAt: Date | undefined;
  forced: 'open' | 'closed' | undefined;
}

/**
 * One opossum breaker per subgraph × field group (`pricing:Product`, `product:Query.products`),
 * created lazily. Breaker state is per instance by design: each instance judges the subgraph
 * from its own calls, and sharing state would couple instances through Redis on the hot path.
 */
export function createBreakerRegistry(options: BreakerOptions, deps: { logger: Logger }): BreakerRegistry {
  const windowMs = options.windowMs ?? DEFAULT_BREAKER_WINDOW_MS;
  const settings = {
    // Our own timeout aborts each call with its own AbortController; opossum's timer would share
    // one controller per breaker and abort unrelated concurrent calls.
    timeout: false as const,
    rollingCountTimeout: windowMs,
    rollingCountBuckets: 10,
    // We never read opossum's latency percentiles (Prometheus has ours); kept on, it stores every
    // call's latency and sorts the whole window on each failure.
    rollingPercentilesEnabled: false,
    volumeThreshold: options.volumeThreshold ?? DEFAULT_BREAKER_VOLUME_THRESHOLD,
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

  function emit(key: string, e: Entry, from: BreakerState, to: BreakerState) {
    const s = e.breaker.stats;
    log.warn(
      { event: 'breaker_transition', key, subgraph: e.subgraph, from, to, window: { fires: s.fires, failures: s.failures, timeouts: s.timeouts, rejects: s.rejects } },
      `breaker ${key}: ${from} -> ${to}`,
    );
    for (const l of listeners) l({ key, subgraph: e.subgraph, from, to });
  }

  function entry(subgraph: string, key: string): Entry {
    let e = entries.get(key);
    if (e) return e;
    const breaker = new CircuitBreaker((fn: () => Promise<unknown>) => fn(), settings);
    const created: Entry = { subgraph, breaker, openedAt: undefined, forced: undefined };
    let last: BreakerState = 'closed';
    const track = () => {
      const next = stateOf(created);
      if (next === 'open' && last !== 'open') created.openedAt = new Date();
      if (next === 'closed') created.openedAt = undefined;
      if (next !== last) {
        const from = last;
        last = next;
        emit(key, created, from, next);
      }
    };
    breaker.on('open', track);
    breaker.on('halfOpen', track);
    breaker.on('close', track);
    entries.set(key, created);
    e = created;
    return e;
  }

  return {
    async fire<T>(subgraph: string, key: string, fn: () => Promise<T>): Promise<T> {
      const e = entry(subgraph, key);
      const forced = forcedOf(e);
      if (forced === 'open') throw new SubgraphFailure('circuit_open', 'circuit open (forced by an operator)');
      if (forced === 'closed') return fn();
      try {
        return (await e.breaker.fire(fn)) as T;
      } catch (err) {
        if ((err as { code?: string }).code === 'EOPENBREAKER') {
          throw new SubgraphFailure('circuit_open', 'circuit open after repeated failures');
        }
        throw err;
      }
    },
    snapshot() {
      return [...entries].map(([key, e]) => {
        const s = e.breaker.stats;
        return {
          key,
          subgraph: e.subgraph,
          state: stateOf(e),
          window: { fires: s.fires, failures: s.failures, timeouts: s.timeouts, rejects: s.rejects, successes: s.successes },
          openedAt: e.openedAt?.toISOString(),
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
        if (from !== to) emit(key, e, from, to);
        touched.push(key);
      }
      if (wholeSubgraph && touched.length === 0) touched.push(`${keyOrSubgraph}:*`);
      if (touched.length === 0 && !wholeSubgraph && mode !== 'auto') {
        // Forcing a key that has not been called yet: create it so the override holds.
        const e = entry(keyOrSubgraph.slice(0, keyOrSubgraph.indexOf(':')), keyOrSubgraph);
        const from = stateOf(e);
        e.forced = mode;
        emit(keyOrSubgraph, e, from, stateOf(e));
        touched.push(keyOrSubgraph);
      }
      return touched;
    },
    onTransition(listener) {
      listeners.push(listener);
    },
    shutdown() {
      for (const e of entries.values()) e.breaker.shutdown();
    },
  };
}
