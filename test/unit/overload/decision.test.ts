import { describe, expect, it } from 'vitest';
import { ACTIVE_WINDOW_MS, HOLD_MS, HYSTERESIS, isShed, nextShedState, NO_SHEDDING, pressureOf, rankOf, shedLevel, shedPointOf } from '../../../src/overload/index.ts';

const ORDER = ['anonymous', 'free', 'premium'];

describe('overload pressure', () => {
  // No adaptive limit learned: the fixed thresholds alone.
  const noLimit = { standingDelayMs: 0, adaptiveLimit: Number.POSITIVE_INFINITY };

  it('is the worst signal as a fraction of its threshold, and 0 for a signal that is off', () => {
    expect(pressureOf({ eventLoopDelayMs: 50, inFlight: 10, ...noLimit }, { eventLoopDelayMs: 100, maxInFlight: 40 })).toBe(0.5);
    expect(pressureOf({ eventLoopDelayMs: 50, inFlight: 60, ...noLimit }, { eventLoopDelayMs: 100, maxInFlight: 40 })).toBe(1.5);
    expect(pressureOf({ eventLoopDelayMs: 5_000, inFlight: 5_000, ...noLimit }, { eventLoopDelayMs: 0, maxInFlight: 0 })).toBe(0);
    expect(pressureOf({ eventLoopDelayMs: 0, inFlight: 80, ...noLimit }, { eventLoopDelayMs: 100, maxInFlight: 0 })).toBe(0);
  });

  it('counts the in-flight requests against the adaptive limit once one is learned', () => {
    const off = { eventLoopDelayMs: 0, maxInFlight: 0 };
    expect(pressureOf({ eventLoopDelayMs: 0, inFlight: 30, standingDelayMs: 0, adaptiveLimit: 20 }, off)).toBe(1.5);
    // The worst signal wins: a fixed in-flight limit below the learned one.
    expect(pressureOf({ eventLoopDelayMs: 0, inFlight: 30, standingDelayMs: 0, adaptiveLimit: 60 }, { eventLoopDelayMs: 0, maxInFlight: 15 })).toBe(2);
  });
});

describe('which tiers are shed', () => {
  it('sheds the lowest tier at the threshold, the next at 1.5×, premium last at 2×', () => {
    expect([0, 1, 2].map(shedPointOf)).toEqual([1, 1.5, 2]);
    expect(shedLevel(0.99, 3, 0)).toBe(0);
    expect(shedLevel(1, 3, 0)).toBe(1);
    expect(shedLevel(1.49, 3, 0)).toBe(1);
    expect(shedLevel(1.5, 3, 0)).toBe(2);
    expect(shedLevel(2, 3, 0)).toBe(3);
    expect(shedLevel(50, 3, 0)).toBe(3);
    const level = shedLevel(1.6, 3, 0);
    expect(ORDER.filter((t) => isShed(rankOf(t, ORDER), level))).toEqual(['anonymous', 'free']);
  });

  it('keeps a shed tier shed within the hysteresis band, and lets tiers back one at a time', () => {
    // free was shed at 1.5; at 1.4 (above 0.9 × 1.5 = 1.35) it stays shed.
    expect(shedLevel(1.4, 3, 2)).toBe(2);
    expect(shedLevel(1.5 * HYSTERESIS - 0.01, 3, 2)).toBe(1);
    // anonymous stays shed down to 0.9, is admitted below it.
    expect(shedLevel(0.95, 3, 1)).toBe(1);
    expect(shedLevel(0.89, 3, 1)).toBe(0);
    // A sudden drop lets every tier back at once.
    expect(shedLevel(0.1, 3, 3)).toBe(0);
  });

  it('ranks a tier it does not know lowest, so it never outranks premium', () => {
    expect(rankOf('partner', ORDER)).toBe(0);
    expect(rankOf('premium', ORDER)).toBe(2);
    expect(isShed(rankOf('partner', ORDER), shedLevel(1, 3, 0))).toBe(true);
  });
});

describe('the hold', () => {
  it('keeps a tier shed for HOLD_MS after the pressure was last at its point, then lets it back', () => {
    let state = nextShedState(1.2, 3, NO_SHEDDING, 0);
    expect(state.level).toBe(1);
    // Shedding anonymous brought the pressure right down: still shed within the hold.
    state = nextShedState(0.3, 3, state, 500);
    expect(state.level).toBe(1);
    state = nextShedState(0.3, 3, state, HOLD_MS - 1);
    expect(state.level).toBe(1);
    state = nextShedState(0.3, 3, state, HOLD_MS);
    expect(state.level).toBe(0);
  });

  it('a new peak restarts the hold, and each tier is held from its own last peak', () => {
    let state = nextShedState(1.6, 3, NO_SHEDDING, 0); // anonymous and free
    state = nextShedState(1.1, 3, state, 1_500); // anonymous' point again, not free's
    expect(state.level).toBe(2);
    state = nextShedState(0.2, 3, state, HOLD_MS + 1); // free's hold is over, anonymous' is not
    expect(state.level).toBe(1);
    state = nextShedState(0.2, 3, state, 1_500 + HOLD_MS);
    expect(state.level).toBe(0);
  });
});

describe('priority, not protection', () => {
  it('sheds a tier only while a higher tier has sent requests in the last ACTIVE_WINDOW_MS', () => {
    const never = Number.NEGATIVE_INFINITY;
    // Only anonymous traffic: nobody to serve instead, so it is never shed, whatever the level.
    expect(isShed(0, 3, [1_000, never, never], 1_000)).toBe(false);
    // Premium sent one 5 s ago: anonymous and free are shed in its favour.
    expect(isShed(0, 2, [1_000, never, -4_000], 1_000)).toBe(true);
    expect(isShed(1, 2, [1_000, 900, -4_000], 1_000)).toBe(true);
    // Premium last seen longer ago than the window: free is the highest present, not shed.
    expect(isShed(1, 2, [1_000, 900, 1_000 - ACTIVE_WINDOW_MS - 1], 1_000)).toBe(false);
    // The highest tier is never shed: there is nobody above it.
    expect(isShed(2, 3, [1_000, 1_000, 1_000], 1_000)).toBe(false);
  });
});
