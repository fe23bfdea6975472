import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/logging/index.ts';
import { createBreakerRegistry, SLOW_CALL_SWEEP_MS, type BreakerRegistry, type BreakerTransitionListener } from '../../../src/resilience/breakers.ts';
import type { CallSignal } from '../../../src/request/signal.ts';
import { createInflightDedup } from '../../../src/resilience/dedup.ts';
import { SubgraphFailure, TimeoutReason } from '../../../src/resilience/failures.ts';
import { SlowCallWindow, slowRateExceeded } from '../../../src/resilience/slowCalls.ts';

describe('slow-call window', () => {
  it('keeps the last N calls and forgets those older than its age limit', () => {
    const w = new SlowCallWindow(4, 1_000);
    w.record(0, true);
    w.record(10, false);
    w.record(20, true);
    expect(w.counts(20)).toEqual({ calls: 3, slow: 2 });
    w.record(30, false);
    w.record(40, false); // pushes out the first (slow) call
    expect(w.counts(40)).toEqual({ calls: 4, slow: 1 });
    expect(w.counts(1_025)).toEqual({ calls: 2, slow: 0 }); // 10 and 20 are older than 1 s
    w.clear();
    expect(w.counts(1_025)).toEqual({ calls: 0, slow: 0 });
  });

  it('opens only past the minimum number of calls and at the slow share', () => {
    expect(slowRateExceeded({ calls: 9, slow: 9 }, 10, 50)).toBe(false);
    expect(slowRateExceeded({ calls: 10, slow: 4 }, 10, 50)).toBe(false);
    expect(slowRateExceeded({ calls: 10, slow: 5 }, 10, 50)).toBe(true);
    expect(slowRateExceeded({ calls: 20, slow: 19 }, 10, 100)).toBe(false);
  });
});

describe('breaker accounting', () => {
  let clock = 0;
  let breakers: BreakerRegistry;
  const transitions: Parameters<BreakerTransitionListener>[0][] = [];
  const never = () => new Promise<never>(() => undefined);

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    clock = 0;
    transitions.length = 0;
    breakers = createBreakerRegistry({}, { logger: createLogger({ level: 'silent' }), now: () => clock });
    breakers.onTransition((e) => transitions.push(e));
  });
  afterEach(() => {
    breakers.shutdown();
    vi.useRealTimers();
  });

  /** Moves both the injected clock and the timers (the in-flight sweep) forward. */
  function advance(ms: number) {
    for (let t = 0; t < ms; t += SLOW_CALL_SWEEP_MS) {
      clock += SLOW_CALL_SWEEP_MS;
      vi.advanceTimersByTime(SLOW_CALL_SWEEP_MS);
    }
  }
  const state = (key: string) => breakers.snapshot().find((b) => b.key === key)?.state;

  it('a hang opens the breaker on slow calls while they are still in flight, before any times out', async () => {
    // 40 fast calls first: the window remembers only the last 20 of them.
    for (let i = 0; i < 40; i++) await breakers.fire('pricing', 'pricing:Product', () => Promise.resolve(i), 1_000);
    const hung: Promise<unknown>[] = [];
    for (let i = 0; i < 25; i++) {
      hung.push(breakers.fire('pricing', 'pricing:Product', never, 1_000).catch((e: unknown) => e));
      advance(SLOW_CALL_SWEEP_MS);
    }
    // Calls started 0..2.5 s ago; none has finished, ten or more are past 1 s.
    advance(1_000);
    expect(state('pricing:Product')).toBe('open');
    expect(transitions.at(-1)).toMatchObject({ key: 'pricing:Product', from: 'closed', to: 'open', reason: 'slow_calls' });
    const snap = breakers.snapshot()[0]!;
    expect(snap.openReason).toBe('slow_calls');
    expect(snap.window.slow).toBeGreaterThanOrEqual(10);
    // From now on, callers are refused at once with the circuit-open failure.
    await expect(breakers.fire('pricing', 'pricing:Product', () => Promise.resolve(1), 1_000)).rejects.toMatchObject({ kind: 'circuit_open' });
  });

  it('calls that finish slowly (1.5 s, under the timeout) open it too; fast ones never do', async () => {
    const slowAnswer = () => new Promise<number>((resolve) => setTimeout(() => resolve(1), 1_500));
    for (let i = 0; i < 30; i++) await breakers.fire('fast', 'fast:Product', () => Promise.resolve(i), 1_000);
    expect(state('fast:Product')).toBe('closed');
    const calls = Array.from({ length: 12 }, () => breakers.fire('slow', 'slow:Product', slowAnswer, 1_000).catch((e: unknown) => e));
    advance(1_600);
    await Promise.all(calls);
    expect(state('slow:Product')).toBe('open');
  });

  it('a slow half-open probe re-opens the breaker; a fast one closes it and the window starts fresh', async () => {
    const hung = Array.from({ length: 12 }, () => breakers.fire('pricing', 'pricing:Product', never, 1_000).catch(() => undefined));
    advance(1_100);
    expect(state('pricing:Product')).toBe('open');
    void hung;
    advance(10_000); // reset timeout: half-open
    expect(state('pricing:Product')).toBe('half-open');
    const probe = breakers.fire('pricing', 'pricing:Product', never, 1_000).catch(() => undefined);
    advance(1_100);
    expect(state('pricing:Product')).toBe('open');
    expect(transitions.at(-1)).toMatchObject({ from: 'half-open', to: 'open', reason: 'slow_probe' });
    void probe;
    advance(10_000);
    expect(state('pricing:Product')).toBe('half-open');
    await breakers.fire('pricing', 'pricing:Product', () => Promise.resolve('ok'), 1_000);
    expect(state('pricing:Product')).toBe('closed');
    // Only the probe itself, recorded after the close: the hang is forgotten.
    expect(breakers.snapshot()[0]!.window).toMatchObject({ recent: 1, slow: 0 });
  });

  it("our own event-loop stall is not the subgraph's slowness: it is taken off every call in flight", async () => {
    const calls = Array.from({ length: 15 }, () => breakers.fire('product', 'product:Query.products', never, 1_000).catch(() => undefined));
    advance(200);
    // The gateway freezes for 1.5 s (GC, CPU starvation): the next sweep runs that late.
    clock += 1_500;
    vi.advanceTimersByTime(SLOW_CALL_SWEEP_MS);
    advance(500);
    expect(state('product:Query.products')).toBe('closed');
    expect(breakers.snapshot()[0]!.window.slow).toBe(0);
    // Past the threshold on the subgraph's own time, they count.
    advance(500);
    expect(state('product:Query.products')).toBe('open');
    void calls;
  });

  it('a client gone or our own deadline never counts as slow or as a failure', async () => {
    const gone = Array.from({ length: 15 }, () =>
      breakers.fire('pricing', 'pricing:Product', () => new Promise<never>((_, reject) => setTimeout(() => reject(new TimeoutReason('client_gone')), 500)), 1_000).catch(() => undefined),
    );
    advance(600);
    await Promise.all(gone);
    expect(state('pricing:Product')).toBe('closed');
    expect(breakers.snapshot()[0]!.window).toMatchObject({ recent: 0, slow: 0, failures: 0 });
  });

  it('GraphQL-level answers are successes; 5xx are failures counted by opossum', async () => {
    for (let i = 0; i < 20; i++) await breakers.fire('review', 'review:Product', () => Promise.resolve({ errors: [{ message: 'x' }] }), 1_000);
    expect(state('review:Product')).toBe('closed');
    for (let i = 0; i < 40; i++) await breakers.fire('review', 'review:Product', () => Promise.reject(new SubgraphFailure('http_5xx', 'answered HTTP 500')), 1_000).catch(() => undefined);
    expect(state('review:Product')).toBe('open');
    expect(breakers.snapshot()[0]!.openReason).toBe('failures');
  });
});

describe('in-flight dedup', () => {
  it('tells at once whether a caller shares, and every caller sees the outcome, failures too', async () => {
    const dedup = createInflightDedup<string>();
    let finish!: (v: string) => void;
    let fail!: (e: Error) => void;
    const a = dedup.run('s', 'k', () => new Promise<string>((res) => (finish = res)));
    const b = dedup.run('s', 'k', () => Promise.resolve('never called'));
    expect([a.shared, b.shared]).toEqual([false, true]);
    finish('v');
    expect(await Promise.all([a.promise, b.promise])).toEqual(['v', 'v']);
    const c = dedup.run('s', 'k', () => new Promise<string>((_, rej) => (fail = rej)));
    const d = dedup.run('s', 'k', () => Promise.resolve('never called'));
    fail(new Error('boom'));
    await expect(c.promise).rejects.toThrow('boom');
    await expect(d.promise).rejects.toThrow('boom');
    expect(dedup.size).toBe(0);
  });

  it('a departing client stops waiting; the shared call is aborted only when every caller has gone', async () => {
    const dedup = createInflightDedup<string>();
    let callSignal: CallSignal | undefined;
    let finish!: (v: string) => void;
    const gone = () => new Error('gone');
    const leader = new AbortController();
    const follower = new AbortController();
    const a = dedup.run(
      's',
      'k',
      (signal) => {
        callSignal = signal;
        return new Promise<string>((res) => (finish = res));
      },
      { signal: leader.signal, onAbort: gone },
    );
    const b = dedup.run('s', 'k', () => Promise.resolve('x'), { signal: follower.signal, onAbort: gone });
    leader.abort();
    await expect(a.promise).rejects.toThrow('gone');
    expect(callSignal?.aborted).toBe(false); // the follower still waits
    finish('v');
    expect(await b.promise).toBe('v');

    const c1 = new AbortController();
    const c2 = new AbortController();
    const c = dedup.run('s', 'k2', (signal) => ((callSignal = signal), new Promise<string>(() => undefined)), { signal: c1.signal, onAbort: gone });
    const d = dedup.run('s', 'k2', () => Promise.resolve('x'), { signal: c2.signal, onAbort: gone });
    c1.abort();
    c2.abort();
    await expect(c.promise).rejects.toThrow('gone');
    await expect(d.promise).rejects.toThrow('gone');
    expect(callSignal?.aborted).toBe(true);
  });

  it('a caller whose client is already gone starts no call and leaves no rejection unhandled', async () => {
    const dedup = createInflightDedup<string>();
    const gone = new AbortController();
    gone.abort();
    let started = false;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // The call rejects when aborted, as the HTTP client does: before the fix nobody handled it.
      const call = (signal: CallSignal | undefined) => {
        started = true;
        return new Promise<string>((_, rej) => signal?.addEventListener('abort', () => rej(signal.reason as Error)));
      };
      const a = dedup.run('s', 'k', call, { signal: gone.signal, onAbort: () => new Error('gone') });
      await expect(a.promise).rejects.toThrow('gone');
      await new Promise((r) => setImmediate(r));
      expect(started).toBe(false);
      expect(dedup.size).toBe(0);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
