import { describe, expect, it } from 'vitest';
import { HotKeyCache } from '../../../src/rateLimit/hotKeys.ts';
import {
  createRateLimiter,
  DEFAULT_RATE_LIMIT_POLICIES,
  validatePolicies,
  RateLimitPolicyError,
  type RateLimiterMode,
  type RateLimitResult,
} from '../../../src/rateLimit/index.ts';
import { parsePoliciesDocument, policyForTier, serializePoliciesDocument } from '../../../src/rateLimit/policies.ts';
import { reconnectDelayMs } from '../../../src/redis/index.ts';
import { captureLogs, manualClock } from '../../helpers/rateLimit.ts';

describe('policies', () => {
  it('defaults: anonymous 60 / 60 s, free 500 / day, premium 10,000 / day', () => {
    expect(DEFAULT_RATE_LIMIT_POLICIES).toEqual({
      anonymous: { limit: 60, windowMs: 60_000 },
      free: { limit: 500, windowMs: 86_400_000 },
      premium: { limit: 10_000, windowMs: 86_400_000 },
    });
  });

  it('rejects invalid sets with a message naming the field', () => {
    expect(() => validatePolicies({ free: { limit: 0, windowMs: 60_000 } })).toThrow(RateLimitPolicyError);
    expect(() => validatePolicies({ free: { limit: 1.5, windowMs: 60_000 } })).toThrow(/limit/);
    expect(() => validatePolicies({ free: { limit: 10, windowMs: 10 } })).toThrow(/windowMs/);
    expect(() => validatePolicies({ 'bad tier"': { limit: 10, windowMs: 60_000 } })).toThrow(/Invalid key.*bad tier/s);
    expect(() => validatePolicies({ free: { limit: 10, windowMs: 60_000, extra: 1 } })).toThrow(RateLimitPolicyError);
  });

  it('parses the Redis document and reports bad ones without throwing', () => {
    const doc = serializePoliciesDocument({ anonymous: { limit: 5, windowMs: 1_000 } });
    expect(JSON.parse(doc)).toEqual({ tiers: { anonymous: { limit: 5, windowMs: 1_000 } } });
    expect(parsePoliciesDocument(doc)).toEqual({ ok: true, policies: { anonymous: { limit: 5, windowMs: 1_000 } } });
    expect(parsePoliciesDocument('{nope')).toMatchObject({ ok: false, error: expect.stringMatching(/not JSON/) });
    expect(parsePoliciesDocument('{"tiers":{"free":{"limit":-1,"windowMs":1000}}}')).toMatchObject({ ok: false });
    expect(parsePoliciesDocument('[]')).toMatchObject({ ok: false });
  });

  it('maps unknown tiers to the fallback tier, and never to inherited object keys', () => {
    expect(policyForTier(DEFAULT_RATE_LIMIT_POLICIES, 'gold', 'free')).toEqual({ name: 'free', limit: 500, windowMs: 86_400_000 });
    expect(policyForTier(DEFAULT_RATE_LIMIT_POLICIES, 'constructor', 'free')?.name).toBe('free');
    expect(policyForTier(DEFAULT_RATE_LIMIT_POLICIES, 'premium', 'free')?.limit).toBe(10_000);
  });
});

describe('reconnectDelayMs', () => {
  it('doubles from 50 ms up to a 2 s cap, within ±20 % jitter', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => reconnectDelayMs(n, mid))).toEqual([50, 100, 200, 400, 800, 1_600, 2_000, 2_000]);
    expect(reconnectDelayMs(20, () => 0)).toBe(1_600);
    expect(reconnectDelayMs(20, () => 0.999_999)).toBeLessThanOrEqual(2_400);
    expect(reconnectDelayMs(1, () => 0)).toBeGreaterThanOrEqual(1);
  });
});

describe('HotKeyCache', () => {
  it('answers until the retry time, capped, and only for costs at least as large', () => {
    const clock = manualClock();
    const cache = new HotKeyCache({ maxBlockMs: 1_000 }, clock);
    cache.block('b', 2, 60, 5_000);
    expect(cache.blockedFor('b', 2)).toEqual({ retryAfterMs: 5_000, limit: 60 });
    expect(cache.blockedFor('b', 3)).toBeDefined();
    expect(cache.blockedFor('b', 1)).toBeUndefined(); // a cheaper request may fit
    clock.advance(999);
    expect(cache.blockedFor('b', 2)?.retryAfterMs).toBe(4_001);
    clock.advance(1);
    expect(cache.blockedFor('b', 2)).toBeUndefined(); // capped: ask Redis again
  });

  it('is off with maxBlockMs 0', () => {
    const cache = new HotKeyCache({ maxBlockMs: 0 }, manualClock());
    cache.block('b', 1, 60, 5_000);
    expect(cache.blockedFor('b', 1)).toBeUndefined();
  });
});

describe('createRateLimiter without Redis (memory mode)', () => {
  function memoryLimiter(options: Parameters<typeof createRateLimiter>[0] = {}) {
    const logs = captureLogs();
    const clock = manualClock();
    const decisions: RateLimitResult[] = [];
    const modes: RateLimiterMode[] = [];
    const limiter = createRateLimiter(options, {
      logger: logs.logger,
      now: clock.now,
      metrics: { onDecision: (_t, d) => decisions.push(d), onModeChange: (m) => modes.push(m), onRedisCommand: () => {} },
    });
    return { limiter, logs, clock, decisions, modes };
  }

  it('says at start-up that limits are per instance', async () => {
    const { limiter, logs, modes } = memoryLimiter();
    expect(limiter.mode()).toBe('memory');
    expect(limiter.describe()).toMatch(/in-process memory store \(no Redis configured/);
    const start = logs.find({ event: 'rate_limit_start' });
    expect(start).toHaveLength(1);
    expect(start[0]).toMatchObject({ mode: 'memory', level: 40, msg: limiter.describe() });
    expect(modes).toEqual(['memory']);
    await limiter.close();
    await limiter.close();
  });

  it('applies the tier policy, maps unknown tiers to the fallback tier, and reports each decision', async () => {
    const { limiter, decisions } = memoryLimiter({ policies: { premium: { limit: 2, windowMs: 60_000 } } });
    const gold = await limiter.check({ key: 'sub:a', tier: 'gold' });
    expect(gold).toMatchObject({ allowed: true, tier: 'free', limit: 500, remaining: 499, source: 'memory', bucketId: 'free:sub:a:500/86400000' });
    expect((await limiter.check({ key: 'sub:b', tier: 'premium' })).remaining).toBe(1);
    expect((await limiter.check({ key: 'sub:b', tier: 'premium' })).remaining).toBe(0);
    expect(await limiter.check({ key: 'sub:b', tier: 'premium' })).toMatchObject({ allowed: false, rejection: 'quota' });
    expect(decisions.map((d) => d.tier)).toEqual(['free', 'premium', 'premium', 'premium']);
  });

  it('weights by cost (rounded up) and rejects a cost above the whole quota without charging', async () => {
    const { limiter } = memoryLimiter({ policies: { anonymous: { limit: 10, windowMs: 60_000 } } });
    const s = { key: 'ip:1.1.1.1', tier: 'anonymous' };
    expect((await limiter.check(s, 4)).remaining).toBe(6);
    expect((await limiter.check(s, 2.1)).remaining).toBe(3);
    expect(await limiter.check(s, 11)).toMatchObject({ allowed: false, rejection: 'cost-exceeds-limit', retryAfterMs: 60_000 });
    expect(await limiter.check(s, 4)).toMatchObject({ allowed: false, rejection: 'quota' });
    expect((await limiter.check(s, 3)).remaining).toBe(0);
    await expect(limiter.check(s, -1)).rejects.toThrow(RangeError);
  });

  it('setPolicies takes effect at once, is validated, and keeps unlisted tiers', async () => {
    const { limiter, logs } = memoryLimiter();
    limiter.setPolicies({ anonymous: { limit: 1, windowMs: 60_000 }, gold: { limit: 3, windowMs: 60_000 } });
    expect(limiter.policies()).toMatchObject({ anonymous: { limit: 1 }, gold: { limit: 3 }, free: { limit: 500 } });
    const s = { key: 'ip:2.2.2.2', tier: 'anonymous' };
    expect((await limiter.check(s)).allowed).toBe(true);
    expect((await limiter.check(s)).allowed).toBe(false);
    expect((await limiter.check({ key: 'sub:x', tier: 'gold' })).limit).toBe(3);
    expect(() => limiter.setPolicies({ anonymous: { limit: 0, windowMs: 1 } })).toThrow(RateLimitPolicyError);
    expect(limiter.policies().anonymous?.limit).toBe(1);
    expect(logs.find({ event: 'rate_limit_policies', source: 'api' })).toHaveLength(1);
  });

  it('refuses a fallback tier without a policy at construction', () => {
    expect(() => createRateLimiter({ fallbackTier: 'nope' }, { logger: captureLogs().logger })).toThrow(/fallbackTier "nope"/);
  });
});
