import { describe, expect, it } from 'vitest';
import { initialMode, modeOf, transition, unavailableReason, type ModeMachine } from '../../../src/rateLimit/mode.ts';

const redis: ModeMachine = { state: { kind: 'redis' }, epoch: 3 };
const fallback: ModeMachine = { state: { kind: 'local-fallback', reason: 'Redis unavailable: boom' }, epoch: 4 };

describe('rate limiter mode machine', () => {
  it('starts in memory without Redis, shared when Redis is ready, in a quiet fallback while it connects', () => {
    expect(initialMode('none')).toEqual({ state: { kind: 'memory' }, epoch: 0 });
    expect(initialMode('ready')).toEqual({ state: { kind: 'redis' }, epoch: 0 });
    expect(initialMode('connecting')).toEqual({ state: { kind: 'local-fallback', reason: 'connecting' }, epoch: 0 });
  });

  it('falls back on a Redis failure of the current epoch, and bumps the epoch', () => {
    expect(transition(redis, { kind: 'redis-failed', epoch: 3, reason: 'Redis unavailable: boom' })).toEqual(fallback);
  });

  it('ignores a failure that started before the last mode change', () => {
    expect(transition(redis, { kind: 'redis-failed', epoch: 2, reason: 'late' })).toBeUndefined();
    expect(transition(fallback, { kind: 'redis-failed', epoch: 4, reason: 'again' })).toBeUndefined();
  });

  it('returns to Redis when a probe of the current epoch is answered', () => {
    expect(transition(fallback, { kind: 'redis-answered', epoch: 4 })).toEqual({ state: { kind: 'redis' }, epoch: 5 });
    expect(transition(fallback, { kind: 'redis-answered', epoch: 3 })).toBeUndefined();
    expect(transition(redis, { kind: 'redis-answered', epoch: 3 })).toBeUndefined();
  });

  it('memory mode never changes but by closing', () => {
    const memory = initialMode('none');
    expect(transition(memory, { kind: 'redis-failed', epoch: 0, reason: 'x' })).toBeUndefined();
    expect(transition(memory, { kind: 'redis-answered', epoch: 0 })).toBeUndefined();
  });

  it('close keeps the last mode and the epoch, once', () => {
    const closed = transition(fallback, { kind: 'close' });
    expect(closed).toEqual({ state: { kind: 'closed', last: 'local-fallback' }, epoch: 4 });
    expect(modeOf(closed!.state)).toBe('local-fallback');
    expect(transition(closed!, { kind: 'close' })).toBeUndefined();
    expect(transition(closed!, { kind: 'redis-answered', epoch: 4 })).toBeUndefined();
  });

  it('names the Redis error in the fallback reason', () => {
    expect(unavailableReason(new Error('connect ECONNREFUSED'))).toBe('Redis unavailable: connect ECONNREFUSED');
    expect(unavailableReason('timeout')).toBe('Redis unavailable: timeout');
  });
});
