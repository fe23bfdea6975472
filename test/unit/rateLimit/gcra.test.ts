import { describe, expect, it } from 'vitest';
import { gcraParams, gcraRefund, gcraStep } from '../../../src/rateLimit/gcra.ts';
import { MemoryStore } from '../../../src/rateLimit/memoryStore.ts';
import { manualClock } from '../../helpers/rateLimit.ts';

describe('gcraParams', () => {
  it('uses whole µs and a burst of exactly limit intervals', () => {
    expect(gcraParams(60, 60_000)).toEqual({ intervalUs: 1_000_000, burstUs: 60_000_000 });
    // 60 s / 7 is not whole: interval rounds down, burst is exactly 7 intervals.
    expect(gcraParams(7, 60_000)).toEqual({ intervalUs: 8_571_428, burstUs: 59_999_996 });
    expect(gcraParams(10_000, 86_400_000).intervalUs).toBe(8_640_000);
  });
});

describe('gcraStep', () => {
  const p = gcraParams(3, 3_000); // one unit per second, burst 3
  const now = 1_000_000_000;

  it('admits a fresh bucket up to the limit, then rejects with the time to the next unit', () => {
    const a = gcraStep(undefined, now, p, 1);
    expect(a).toMatchObject({ allowed: true, remaining: 2, retryAfterUs: 0, resetUs: 1_000_000, newTatUs: now + 1_000_000 });
    const b = gcraStep(a.newTatUs, now, p, 1);
    const c = gcraStep(b.newTatUs, now, p, 1);
    expect([b.remaining, c.remaining]).toEqual([1, 0]);
    const d = gcraStep(c.newTatUs, now, p, 1);
    expect(d).toMatchObject({ allowed: false, remaining: 0, retryAfterUs: 1_000_000, resetUs: 3_000_000, newTatUs: undefined });
  });

  it('refills continuously and never beyond the burst', () => {
    const full = now + 3_000_000;
    expect(gcraStep(full, now + 999_999, p, 1).allowed).toBe(false);
    expect(gcraStep(full, now + 1_000_000, p, 1)).toMatchObject({ allowed: true, remaining: 0 });
    // A long-idle bucket (TAT far in the past) is simply full.
    expect(gcraStep(now - 10_000_000_000, now, p, 1)).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('charges cost units at once and rejects a cost that does not fit without consuming', () => {
    const a = gcraStep(undefined, now, p, 2);
    expect(a).toMatchObject({ allowed: true, remaining: 1 });
    const b = gcraStep(a.newTatUs, now, p, 2);
    expect(b).toMatchObject({ allowed: false, remaining: 1, retryAfterUs: 1_000_000 });
    expect(gcraStep(a.newTatUs, now, p, 1)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('a cost of 0 reads the bucket without writing it', () => {
    expect(gcraStep(undefined, now, p, 0)).toMatchObject({ allowed: true, remaining: 3, resetUs: 0, newTatUs: undefined });
  });
});

describe('gcraStep with a maximum delay (queueing, maxWait)', () => {
  const p = gcraParams(3, 3_000); // one unit per second, burst 3
  const now = 1_000_000_000;

  it('reserves the next unit when it comes back within the delay, and says exactly when', () => {
    const full = now + 3_000_000; // bucket empty: the next unit is 1 s away
    const a = gcraStep(full, now, p, 1, 2_000_000);
    expect(a).toMatchObject({ allowed: true, waitUs: 1_000_000, remaining: 0, newTatUs: full + 1_000_000 });
    // The next caller queues behind it: 2 s away, still within the delay.
    const b = gcraStep(a.newTatUs, now, p, 1, 2_000_000);
    expect(b).toMatchObject({ allowed: true, waitUs: 2_000_000 });
    // The one after that would wait 3 s: rejected, nothing charged.
    const c = gcraStep(b.newTatUs, now, p, 1, 2_000_000);
    expect(c).toMatchObject({ allowed: false, retryAfterUs: 3_000_000, newTatUs: undefined, waitUs: 0 });
  });

  it('admits at once (waitUs 0) when the bucket has room, as without a delay', () => {
    expect(gcraStep(undefined, now, p, 1, 2_000_000)).toMatchObject({ allowed: true, waitUs: 0 });
  });

  it('a refund gives the units back to the next caller', () => {
    const full = now + 3_000_000;
    const reserved = gcraStep(full, now, p, 1, 2_000_000);
    const refunded = gcraRefund(reserved.newTatUs, now, p, 1);
    expect(refunded).toBe(full);
    expect(gcraStep(refunded, now, p, 1, 2_000_000)).toMatchObject({ allowed: true, waitUs: 1_000_000 });
    // Refunding into a bucket that is then full deletes it.
    expect(gcraRefund(now + 500_000, now, p, 1)).toBeUndefined();
  });
});

describe('MemoryStore', () => {
  const policy = { limit: 60, windowMs: 60_000 };

  it('admits exactly the limit in a burst, with remaining counting down', async () => {
    const clock = manualClock();
    const store = new MemoryStore({}, clock);
    const decisions = await Promise.all(Array.from({ length: 100 }, () => store.consume('a', policy, 1)));
    const admitted = decisions.filter((d) => d.allowed);
    expect(admitted).toHaveLength(60);
    expect(admitted.map((d) => d.remaining)).toEqual(Array.from({ length: 60 }, (_, i) => 59 - i));
    expect(decisions[60]).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 1_000, resetMs: 60_000, limit: 60 });
  });

  it('admits one more unit per interval as time passes, and is full again after the window', () => {
    const clock = manualClock();
    const store = new MemoryStore({}, clock);
    for (let i = 0; i < 60; i++) store.consumeSync('a', policy, 1);
    expect(store.consumeSync('a', policy, 1).allowed).toBe(false);
    clock.advance(999);
    expect(store.consumeSync('a', policy, 1)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    clock.advance(1);
    expect(store.consumeSync('a', policy, 1).allowed).toBe(true);
    expect(store.consumeSync('a', policy, 1).allowed).toBe(false);
    clock.advance(60_000);
    expect(store.consumeSync('a', policy, 0)).toMatchObject({ remaining: 60, resetMs: 0 });
  });

  it('keeps buckets apart and forgets the least recently used past its bound', () => {
    const clock = manualClock();
    const store = new MemoryStore({ maxBuckets: 2 }, clock);
    const tiny = { limit: 1, windowMs: 60_000 };
    expect(store.consumeSync('a', tiny, 1).allowed).toBe(true);
    expect(store.consumeSync('b', tiny, 1).allowed).toBe(true);
    expect(store.consumeSync('a', tiny, 1).allowed).toBe(false);
    store.consumeSync('c', tiny, 1); // evicts b (least recently used)
    expect(store.size).toBe(2);
    expect(store.consumeSync('b', tiny, 1).allowed).toBe(true);
  });

  it('handles a window that is not a multiple of the limit: exactly limit in a burst', () => {
    const store = new MemoryStore({}, manualClock());
    const odd = { limit: 7, windowMs: 60_000 };
    const admitted = Array.from({ length: 20 }, () => store.consumeSync('a', odd, 1)).filter((d) => d.allowed);
    expect(admitted).toHaveLength(7);
  });
});
