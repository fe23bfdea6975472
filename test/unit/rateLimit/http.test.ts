import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../../src/auth/principal.ts';
import {
  createRateLimiter,
  rateLimitedBody,
  rateLimitHeaders,
  rateLimitRequest,
  rateLimitStatus,
  type RateLimitResult,
} from '../../../src/rateLimit/index.ts';
import { captureLogs, manualClock } from '../../helpers/rateLimit.ts';

const anonymous = { name: 'anonymous', limit: 60, windowMs: 60_000 };

function result(overrides: Partial<RateLimitResult>): RateLimitResult {
  return {
    allowed: true,
    limit: 60,
    remaining: 12,
    resetMs: 29_001,
    retryAfterMs: 0,
    waitMs: 0,
    tier: 'anonymous',
    bucketId: 'anonymous:ip:203.0.113.7',
    policy: anonymous,
    source: 'redis',
    rejection: undefined,
    ...overrides,
  };
}

describe('rateLimitHeaders', () => {
  it('formats the draft headers for an admitted request, without Retry-After', () => {
    expect(rateLimitHeaders(result({}), anonymous)).toEqual({
      'RateLimit-Policy': '"anonymous";q=60;w=60',
      RateLimit: '"anonymous";r=12;t=30',
    });
  });

  it('adds Retry-After in whole seconds, rounded up, at least 1', () => {
    const h = (ms: number) => rateLimitHeaders(result({ allowed: false, remaining: 0, retryAfterMs: ms, rejection: 'quota' }), anonymous)['Retry-After'];
    expect(h(1)).toBe('1');
    expect(h(0)).toBe('1');
    expect(h(1_000)).toBe('1');
    expect(h(1_001)).toBe('2');
    expect(h(86_400_000)).toBe('86400');
  });

  it('states day-long windows in seconds', () => {
    const free = { name: 'free', limit: 500, windowMs: 86_400_000 };
    expect(rateLimitHeaders(result({ tier: 'free', policy: free, remaining: 499, resetMs: 172_800 }), free)).toMatchObject({
      'RateLimit-Policy': '"free";q=500;w=86400',
      RateLimit: '"free";r=499;t=173',
    });
  });

  it('sends only Retry-After when the limiter could not decide', () => {
    const r = result({ allowed: false, rejection: 'limiter-unavailable', source: 'unavailable', retryAfterMs: 1_000 });
    expect(rateLimitHeaders(r, anonymous)).toEqual({ 'Retry-After': '1' });
    expect(rateLimitStatus(r)).toBe(503);
  });
});

describe('rateLimitedBody', () => {
  it('is a GraphQL error with code RATE_LIMITED, retryAfter and tier', () => {
    const r = result({ allowed: false, remaining: 0, retryAfterMs: 11_500, rejection: 'quota' });
    expect(rateLimitStatus(r)).toBe(429);
    expect(rateLimitedBody(r)).toEqual({
      errors: [
        {
          message: 'Rate limit exceeded: the anonymous tier allows 60 per 60 s; retry after 12 s',
          extensions: { code: 'RATE_LIMITED', retryAfter: 12, tier: 'anonymous' },
        },
      ],
    });
  });

  it('names the unavailable limiter with its own code', () => {
    const body = rateLimitedBody(result({ allowed: false, rejection: 'limiter-unavailable', retryAfterMs: 1_000 }));
    expect(body.errors[0].extensions).toEqual({ code: 'RATE_LIMITER_UNAVAILABLE', retryAfter: 1, tier: 'anonymous' });
  });

  it('says when a single operation costs more than the whole quota', () => {
    const body = rateLimitedBody(result({ allowed: false, rejection: 'cost-exceeds-limit', retryAfterMs: 60_000 }));
    expect(body.errors[0].message).toMatch(/costs more than the whole quota/);
    expect(body.errors[0].extensions.code).toBe('RATE_LIMITED');
  });
});

describe('rateLimitRequest (plain inputs → headers / 429)', () => {
  it('admits 60 anonymous requests per IP, then answers 429 with headers and body', async () => {
    const clock = manualClock();
    const limiter = createRateLimiter({}, { logger: captureLogs().logger, now: clock.now });
    const input = { principal: ANONYMOUS, apiKey: undefined, remoteAddress: '10.0.0.1', xForwardedFor: '6.6.6.6, 203.0.113.9', trustedHops: 1 };
    for (let i = 0; i < 60; i++) {
      // A forged left-hand entry changes on every request; the bucket must not.
      const out = await rateLimitRequest(limiter, { ...input, xForwardedFor: `6.6.6.${i}, 203.0.113.9` });
      expect(out.allowed).toBe(true);
      expect(out.headers['RateLimit']).toBe(`"anonymous";r=${59 - i};t=${i + 1}`);
    }
    const out = await rateLimitRequest(limiter, input);
    expect(out).toMatchObject({ allowed: false, statusCode: 429, headers: { 'Retry-After': '1' } });
    if (out.allowed) throw new Error('unreachable');
    expect(out.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: 1, tier: 'anonymous' });
    // Another client is unaffected.
    expect((await rateLimitRequest(limiter, { ...input, xForwardedFor: '203.0.113.10' })).allowed).toBe(true);
    await limiter.close();
  });
});
