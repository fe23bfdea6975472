import { describe, expect, it } from 'vitest';
import { LEAST_CUT, MAX_CUT, MIN_ADAPTIVE_LIMIT, nextAdaptiveLimit, NO_ADAPTIVE_LIMIT, NO_LIMIT, WINDOWS_AFTER_CUT, type AdaptiveLimitState, type LimitReading } from '../../../src/overload/index.ts';

const TARGET = 20;
const reading = (standingDelayMs: number, meanInFlight: number, peakInFlight = meanInFlight): LimitReading => ({ standingDelayMs, meanInFlight, peakInFlight });
/** One window from `limit`, long after any cut. */
const step = (limit: number, r: LimitReading): number => nextAdaptiveLimit({ limit, windowsSinceCut: Number.POSITIVE_INFINITY }, r, TARGET).limit;

/** Feeds readings one window at a time; returns the limit after each. */
function run(start: AdaptiveLimitState, readings: readonly LimitReading[]): number[] {
  const out: number[] = [];
  let state = start;
  for (const r of readings) {
    state = nextAdaptiveLimit(state, r, TARGET);
    out.push(state.limit);
  }
  return out;
}

describe('adaptive in-flight limit', () => {
  it('has no limit while the standing delay stays below target, whatever is in flight (bursts, a slow subgraph)', () => {
    const calm = [reading(0, 5, 40), reading(19.9, 300, 800), reading(3, 2_000, 2_000), reading(0, 0, 0)];
    expect(run(NO_ADAPTIVE_LIMIT, calm)).toEqual(calm.map(() => NO_LIMIT));
  });

  it('cuts to the concurrency that keeps the standing delay at target on the first standing queue', () => {
    // 80 in flight held the loop 30 ms late: 80 × 20 / 30 ≈ 53.3 in flight would have held it at target.
    expect(step(NO_LIMIT, reading(30, 80, 160))).toBeCloseTo((80 * 20) / 30, 6);
  });

  it('lowers the limit as the standing delay rises, by at most half and always by 10 %', () => {
    const [a, b, c] = [25, 35, 400].map((d) => step(100, reading(d, 100)));
    expect(a).toBeGreaterThan(b!);
    expect(b).toBeGreaterThan(c!);
    expect(c).toBe(100 * MAX_CUT);
    expect(step(100, reading(TARGET, 100))).toBe(100 * LEAST_CUT);
    // A limit below what is in flight is cut from the limit, not from the crowd.
    expect(step(60, reading(40, 100))).toBe(30);
  });

  it('holds a cut while the readings catch up with it, then cuts again if the queue still stands', () => {
    const limits = run(NO_ADAPTIVE_LIMIT, Array.from({ length: 2 * (WINDOWS_AFTER_CUT + 1) }, () => reading(400, 100)));
    expect(limits.slice(0, WINDOWS_AFTER_CUT + 1)).toEqual(Array.from({ length: WINDOWS_AFTER_CUT + 1 }, () => 50));
    expect(limits[WINDOWS_AFTER_CUT + 1]).toBe(25);
  });

  it('never goes below the least limit, and ignores a standing queue that few requests could have built', () => {
    expect(run(NO_ADAPTIVE_LIMIT, Array.from({ length: 30 }, () => reading(500, 100)))).toContain(MIN_ADAPTIVE_LIMIT);
    expect(step(MIN_ADAPTIVE_LIMIT, reading(500, 100))).toBe(MIN_ADAPTIVE_LIMIT);
    // A blocking startup step with nothing in flight: neither a first limit nor a cut.
    expect(step(NO_LIMIT, reading(300, 0))).toBe(NO_LIMIT);
    expect(step(40, reading(300, MIN_ADAPTIVE_LIMIT - 1))).toBe(40);
  });

  it('recovers: with no standing queue and the limit reached, it grows by √limit a window', () => {
    const limits = run({ limit: 25, windowsSinceCut: Number.POSITIVE_INFINITY }, Array.from({ length: 6 }, () => reading(2, 20, 30)));
    expect(limits[0]).toBe(30);
    for (let i = 1; i < limits.length; i++) expect(limits[i]! - limits[i - 1]!).toBeCloseTo(Math.sqrt(limits[i - 1]!), 6);
    // Not reached (peak below half the limit): no evidence that more fits, no growth.
    expect(step(100, reading(0, 10, 49))).toBe(100);
  });

  it('follows a rising then falling load: down while the queue stands, back up once it is gone', () => {
    const r = [reading(0, 20), reading(50, 90), reading(40, 40), reading(25, 30), reading(25, 30), reading(5, 20, 30), reading(5, 20, 30), reading(5, 20, 30), reading(5, 20, 30)];
    const limits = run(NO_ADAPTIVE_LIMIT, r);
    expect(limits.slice(0, 5)).toEqual([NO_LIMIT, 45, 45, 45, 24]); // 90 × max(0.5, 20/50); held; min(45, 30) × 20/25
    expect(limits.slice(5, 7)).toEqual([24, 24]); // held after the cut
    expect(limits[7]).toBeCloseTo(24 + Math.sqrt(24), 6);
    expect(limits[8]!).toBeGreaterThan(limits[7]!);
  });

  it('is off with a target of 0', () => {
    expect(nextAdaptiveLimit({ limit: 30, windowsSinceCut: 9 }, reading(500, 100), 0)).toEqual(NO_ADAPTIVE_LIMIT);
  });
});
