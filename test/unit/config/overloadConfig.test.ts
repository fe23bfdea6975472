import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';

describe('fair-under-overload configuration', () => {
  it('defaults: premium queues up to 2 s, no cost quota, shedding on with the adaptive limit (standing delay 20 ms), 250 ms of mean delay as a backstop', () => {
    const c = loadConfig({});
    expect(c.rateLimit).toMatchObject({ maxWaitMs: { premium: 2_000 }, queueSize: 100, minCost: 1, costPolicies: {} });
    expect(c.overload).toEqual({ enabled: true, standingDelayMs: 20, eventLoopDelayMs: 250, maxInFlight: 0, tierOrder: ['anonymous', 'free', 'premium'] });
  });

  it('reads cost quotas beside request quotas, one tier having both', () => {
    const c = loadConfig({ PORTICO_RATE_LIMITS: 'free=500/1d,free=200000cost/1d,premium=10000/1d' });
    expect(c.rateLimit.policies.free).toEqual({ limit: 500, windowMs: 86_400_000 });
    expect(c.rateLimit.costPolicies).toEqual({ free: { limit: 200_000, windowMs: 86_400_000 } });
  });

  it('reads maxWait per tier and refuses bad values, naming the variable', () => {
    expect(loadConfig({ PORTICO_RATE_LIMIT_MAX_WAIT: 'premium=1500ms,free=1s' }).rateLimit.maxWaitMs).toEqual({ premium: 1_500, free: 1_000 });
    expect(() => loadConfig({ PORTICO_RATE_LIMIT_MAX_WAIT: 'premium=2h' })).toThrow(/PORTICO_RATE_LIMIT_MAX_WAIT.*tier=duration/s);
    expect(() => loadConfig({ PORTICO_RATE_LIMIT_MAX_WAIT: 'premium=120s' })).toThrow(/PORTICO_RATE_LIMIT_MAX_WAIT.*at most 60000 ms/s);
    expect(() => loadConfig({ PORTICO_RATE_LIMITS: 'free=10kcost/1d' })).toThrow(/PORTICO_RATE_LIMITS.*free=200000cost\/1d/s);
    expect(() => loadConfig({ PORTICO_OVERLOAD_MAX_IN_FLIGHT: '-1' })).toThrow(/PORTICO_OVERLOAD_MAX_IN_FLIGHT/);
    expect(loadConfig({ PORTICO_OVERLOAD_STANDING_DELAY_MS: '0' }).overload.standingDelayMs).toBe(0);
    expect(() => loadConfig({ PORTICO_OVERLOAD_STANDING_DELAY_MS: '20ms' })).toThrow(/PORTICO_OVERLOAD_STANDING_DELAY_MS/);
    expect(() => loadConfig({ PORTICO_OVERLOAD_STANDING_DELAY_MS: '-5' })).toThrow(/PORTICO_OVERLOAD_STANDING_DELAY_MS/);
  });
});
