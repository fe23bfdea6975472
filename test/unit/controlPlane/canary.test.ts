import { describe, expect, it } from 'vitest';
import { emptyLaneStats, judgeCanary, laneFor, percentile, recordOutcome, type CanaryPolicy, type LaneStats } from '../../../src/controlPlane/canary.ts';
import { nextPollDelayMs, redactUrl } from '../../../src/controlPlane/httpSource.ts';

const policy: CanaryPolicy = { percent: 10, minRequests: 20, windowMs: 10_000, maxErrorDeltaPercent: 2, maxP99IncreasePercent: 50 };

function lane(requests: number, failed: number, latencyMs = 10): LaneStats {
  const s = emptyLaneStats();
  for (let i = 0; i < requests; i++) recordOutcome(s, { status: 200, errorCodes: i < failed ? ['SUBGRAPH_ERROR'] : [], degraded: 0, durationMs: latencyMs });
  return s;
}

describe('canary judge', () => {
  it('waits for the minimum canary requests, whatever they show', () => {
    expect(judgeCanary(lane(500, 0), lane(19, 19), 60_000, policy).decision).toBe('wait');
  });

  it('rolls back as soon as the canary fails more than the margin above stable, without waiting the window', () => {
    const v = judgeCanary(lane(200, 2), lane(20, 5), 100, policy);
    expect(v.decision).toBe('rollback');
    expect(v.reason).toMatch(/canary failed 25\.0 % of 20 requests \(SUBGRAPH_ERROR ×5\) against 1\.0 % on stable/);
  });

  it('tolerates errors the stable lane has too (a subgraph down is not the canary\'s fault)', () => {
    expect(judgeCanary(lane(200, 100), lane(20, 10), 20_000, policy).decision).toBe('promote');
  });

  it('rolls back on a p99 well above stable at the end of the window, not on noise within the slack', () => {
    expect(judgeCanary(lane(200, 0, 10), lane(100, 0, 100), 100, policy).decision).toBe('wait');
    expect(judgeCanary(lane(200, 0, 10), lane(100, 0, 100), 10_000, policy)).toMatchObject({ decision: 'rollback', reason: expect.stringMatching(/^canary p99 100\.0 ms above 40\.0 ms/) });
    expect(judgeCanary(lane(200, 0, 10), lane(100, 0, 30), 10_000, policy).decision).toBe('promote');
  });

  it('does not judge latency on fewer than 100 samples a lane (a cold plan cache is the max of a few dozen)', () => {
    expect(judgeCanary(lane(200, 0, 10), lane(99, 0, 1_000), 10_000, policy).decision).toBe('promote');
  });

  it('promotes a healthy canary only once the window has passed', () => {
    expect(judgeCanary(lane(200, 0), lane(20, 0), 9_999, policy).decision).toBe('wait');
    expect(judgeCanary(lane(200, 0), lane(20, 0), 10_000, policy).decision).toBe('promote');
  });

  it('counts 5xx and degraded fields as failures, by code', () => {
    const s = emptyLaneStats();
    recordOutcome(s, { status: 502, errorCodes: [], degraded: 0, durationMs: 1 });
    recordOutcome(s, { status: 200, errorCodes: [], degraded: 2, durationMs: 1 });
    recordOutcome(s, { status: 200, errorCodes: [], degraded: 0, durationMs: 1 });
    expect(s).toMatchObject({ requests: 3, failed: 2, byCode: { HTTP_5XX: 1, DEGRADED: 1 } });
  });
});

describe('lane choice', () => {
  it('is sticky per client key and a given canary, and takes about the configured share', () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
    const canary = keys.filter((k) => laneFor(10, 'abc', k) === 'canary');
    expect(canary.length / keys.length).toBeGreaterThan(0.08);
    expect(canary.length / keys.length).toBeLessThan(0.12);
    for (const k of keys.slice(0, 100)) expect(laneFor(10, 'abc', k)).toBe(laneFor(10, 'abc', k));
    // Another canary draws another set of clients: nobody is always the guinea pig.
    const other = keys.filter((k) => laneFor(10, 'def', k) === 'canary');
    expect(other.filter((k) => canary.includes(k)).length).toBeLessThan(canary.length / 2);
  });

  it('decides per request without a key, and never with 0 %', () => {
    expect(laneFor(10, 'abc', undefined, () => 0.05)).toBe('canary');
    expect(laneFor(10, 'abc', undefined, () => 0.5)).toBe('stable');
    expect(laneFor(0, 'abc', 'user-1', () => 0)).toBe('stable');
  });
});

describe('helpers', () => {
  it('percentile is nearest-rank', () => {
    expect(percentile([], 99)).toBeUndefined();
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
  });

  it('poll delays are jittered and back off while every URL fails, capped', () => {
    expect(nextPollDelayMs(10_000, 0, () => 0.5)).toBe(10_000);
    expect(nextPollDelayMs(10_000, 0, () => 0)).toBe(8_000);
    expect(nextPollDelayMs(10_000, 3, () => 0.5)).toBe(80_000);
    expect(nextPollDelayMs(10_000, 30, () => 0.5)).toBe(300_000);
  });

  it('URLs are logged without their query string (pre-signed credentials)', () => {
    expect(redactUrl('https://bucket.s3.amazonaws.com/sg.graphql?X-Amz-Signature=secret')).toBe('https://bucket.s3.amazonaws.com/sg.graphql?…');
  });
});

describe('what counts as a failure', () => {
  it('an APQ hash not yet registered is protocol, not a failure (the client re-sends the query)', () => {
    const s = emptyLaneStats();
    recordOutcome(s, { status: 200, errorCodes: ['PERSISTED_QUERY_NOT_FOUND'], degraded: 0, durationMs: 1 });
    expect(s).toMatchObject({ requests: 1, failed: 0, byCode: {} });
  });
});
