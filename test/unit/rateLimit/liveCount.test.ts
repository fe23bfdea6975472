import { describe, expect, it } from 'vitest';
import { acceptLiveCount, fallbackShare, instanceId, liveCountInForce } from '../../../src/rateLimit/liveCount.ts';

describe('fallbackShare', () => {
  it('divides the quota by the live count, rounding down, never below 1', () => {
    expect(fallbackShare(100, 3)).toBe(33);
    expect(fallbackShare(100, 5)).toBe(20);
    expect(fallbackShare(100, 10)).toBe(10);
    expect(fallbackShare(2, 5)).toBe(1);
    expect(fallbackShare(100, 0)).toBe(100);
  });

  it('keeps the fleet total at or under the quota whenever the quota covers the fleet', () => {
    for (const limit of [5, 30, 100, 999]) for (let n = 1; n <= limit; n++) expect(n * fallbackShare(limit, n)).toBeLessThanOrEqual(limit);
  });
});

describe('acceptLiveCount', () => {
  it('takes whole counts ≥ 1 and keeps the last good one otherwise', () => {
    expect(acceptLiveCount(3, 5)).toBe(5);
    expect(acceptLiveCount(3, '4')).toBe(4);
    expect(acceptLiveCount(3, 0)).toBe(3);
    expect(acceptLiveCount(3, null)).toBe(3);
    expect(acceptLiveCount(3, 2.5)).toBe(3);
  });
});

describe('liveCountInForce', () => {
  const TTL = 3_000;
  it('is the start-up value until a heartbeat has answered', () => {
    expect(liveCountInForce(3, undefined, 0, TTL)).toBe(3);
    expect(liveCountInForce(3, undefined, 60_000, TTL)).toBe(3);
  });

  it('never undercounts during the first TTL, while peers that started together announce themselves', () => {
    expect(liveCountInForce(3, 1, 0, TTL)).toBe(3);
    expect(liveCountInForce(3, 5, 100, TTL)).toBe(5);
  });

  it('is the reported count once every live instance has had a TTL to beat: up (scale-out) or down (scale-in)', () => {
    expect(liveCountInForce(3, 5, TTL, TTL)).toBe(5);
    expect(liveCountInForce(3, 2, TTL + 1, TTL)).toBe(2);
    expect(liveCountInForce(3, 10, 60_000, TTL)).toBe(10);
  });
});

describe('instanceId', () => {
  it('names host and pid and differs between limiters of one process', () => {
    expect(instanceId('gw-1', 42, () => 0)).toBe('gw-1:42:000000');
    expect(instanceId('gw-1', 42, () => 0.5)).not.toBe(instanceId('gw-1', 42, () => 0.25));
  });
});
