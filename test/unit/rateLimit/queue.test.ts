import { afterEach, describe, expect, it } from 'vitest';
import { createRateLimiter, createRateLimitQueue, type QueueDropReason, type RateLimiter } from '../../../src/rateLimit/index.ts';
import { LightAbort, type CallSignal } from '../../../src/request/signal.ts';
import { captureLogs } from '../../helpers/rateLimit.ts';

// 10 per second: after the burst, one unit every 100 ms.
const policies = { premium: { limit: 10, windowMs: 1_000 } };
const subject = { key: 'sub:paula', tier: 'premium' };

function setUp(queueSize = 10) {
  const limiter = createRateLimiter({ policies, fallbackTier: 'premium' }, { logger: captureLogs().logger });
  const events: { queued: number; waited: number[]; dropped: QueueDropReason[] } = { queued: 0, waited: [], dropped: [] };
  const queue = createRateLimitQueue(
    { maxWaitMs: { premium: 2_000 }, queueSize },
    {
      refund: (r, c) => limiter.refund(r, c),
      metrics: { onQueued: () => void events.queued++, onWaited: (_t, s) => void events.waited.push(s), onDropped: (_t, r) => void events.dropped.push(r), onDepth() {} },
    },
  );
  const admit = (budgetMs = 10_000, signal?: CallSignal) =>
    queue.admit({ tier: 'premium', cost: 1, check: (maxDelayMs) => limiter.check(subject, 1, { maxDelayMs }), signal, budgetMs });
  return { limiter, queue, events, admit };
}

const limiters: RateLimiter[] = [];
afterEach(async () => {
  for (const l of limiters.splice(0)) await l.close();
});

async function exhaust(admit: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 10; i++) await admit();
}

describe('rate-limit queue (maxWait)', () => {
  it('queued requests wait until their unit, never past the request deadline', async () => {
    const { limiter, admit, events } = setUp();
    limiters.push(limiter);
    await exhaust(admit);
    // 50 ms left before the deadline, the next unit is ~100 ms away: refused, nothing charged.
    const tooLate = await admit(50);
    expect(tooLate).toMatchObject({ kind: 'decided', waitedMs: 0, result: { allowed: false } });
    expect(events.dropped).toEqual(['wait-too-long']);
    const started = performance.now();
    const queued = await admit(10_000);
    expect(queued.kind === 'decided' && queued.result?.allowed).toBe(true);
    expect(queued.kind === 'decided' && queued.waitedMs).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(events.queued).toBe(1);
    expect(events.waited).toHaveLength(1);
  });

  it('a request whose client leaves while queued gives its place and its unit back', async () => {
    const { limiter, admit, queue, events } = setUp(1);
    limiters.push(limiter);
    await exhaust(admit);
    // The signal the rate-limit hook passes: Portico's light one, not an AbortController.
    const gone = new LightAbort();
    const first = admit(10_000, gone);
    await new Promise((r) => setImmediate(r));
    expect(queue.depth('premium')).toBe(1);
    // No room for a second.
    const refused = await admit();
    expect(refused.result?.allowed).toBe(false);
    gone.abort();
    expect((await first).kind).toBe('cancelled');
    expect(queue.depth('premium')).toBe(0);
    expect(events.dropped).toEqual(['full', 'client-gone']);
    // The refunded unit is the next caller's: it waits one interval, not two.
    const next = await admit();
    expect(next.kind === 'decided' && next.result?.allowed).toBe(true);
    expect(next.kind === 'decided' && next.result!.waitMs).toBeLessThanOrEqual(100);
  });
});
