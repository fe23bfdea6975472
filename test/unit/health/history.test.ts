import { describe, expect, it } from 'vitest';
import { createStatusHistory, sparklinePath, timelineSegments, type BreakerTransitionRecord } from '../../../src/health/history.ts';

describe('status history ring buffer', () => {
  it('closes each interval into a point: calls/s, error rate, p99; idle intervals have no error rate', () => {
    let now = 1_000_000;
    const h = createStatusHistory({ sampleMs: 5_000, windowMs: 20_000, now: () => now });
    for (let i = 0; i < 8; i++) h.observer.finished('pricing', 'pricing:Product', 'success', 0.01);
    h.observer.finished('pricing', 'pricing:Product', 'timeout', 0.3);
    h.observer.finished('pricing', 'pricing:Product', 'circuit_open', 0);
    h.observer.finished('pricing', 'pricing:Product', 'client_gone', 0.02); // not the subgraph's failure
    now += 5_000;
    h.sample();
    now += 5_000;
    h.sample();
    const [first, idle] = h.series().pricing!;
    expect(first).toMatchObject({ t: 1_005_000, rate: 2.2, errorRate: 0.182 });
    expect(first!.p99).toBeGreaterThan(200);
    expect(idle).toMatchObject({ rate: 0, errorRate: null, p99: null });
  });

  it('keeps only the window: fixed memory, old points and transitions drop off', () => {
    let now = 0;
    const h = createStatusHistory({ sampleMs: 1_000, windowMs: 5_000, now: () => now });
    h.observer.finished('a', 'a:X', 'success', 0.001);
    h.onBreakerTransition({ key: 'a:X', subgraph: 'a', from: 'closed', to: 'open' });
    for (let i = 0; i < 20; i++) {
      now += 1_000;
      h.sample();
    }
    expect(h.series().a!.length).toBeLessThanOrEqual(5);
    expect(h.transitions()).toEqual([]);
  });
});

describe('sparklinePath', () => {
  it('draws left = oldest, top = max, gaps break the line (a lone point is a dash), a flat zero sits on the bottom', () => {
    expect(sparklinePath([0, 5, 10], 100, 10)).toBe('M0 10L50 5L100 0');
    expect(sparklinePath([1, null, 1], 100, 10)).toBe('M0 0h2M100 0h-2');
    expect(sparklinePath([0, 0], 100, 10)).toBe('M0 10L100 10');
    expect(sparklinePath([0.5], 100, 10, 1)).toBe('M50 5h2');
    expect(sparklinePath([], 100, 10)).toBe('');
  });
});

describe('timelineSegments', () => {
  const t = (at: number, from: BreakerTransitionRecord['from'], to: BreakerTransitionRecord['to']): BreakerTransitionRecord => ({ at, key: 'k', subgraph: 's', from, to });
  it('no changes: one segment in the current state', () => {
    expect(timelineSegments([], 'closed', 0, 1_000)).toEqual([{ x0: 0, x1: 1, state: 'closed' }]);
  });
  it('closed → open → half-open → closed, as fractions of the window, in time order whatever the input order', () => {
    const segs = timelineSegments([t(750, 'open', 'half-open'), t(500, 'closed', 'open'), t(800, 'half-open', 'closed')], 'closed', 0, 1_000);
    expect(segs).toEqual([
      { x0: 0, x1: 0.5, state: 'closed' },
      { x0: 0.5, x1: 0.75, state: 'open' },
      { x0: 0.75, x1: 0.8, state: 'half-open' },
      { x0: 0.8, x1: 1, state: 'closed' },
    ]);
  });
});
