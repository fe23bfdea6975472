/**
 * Redis misbehaving under three live instances, with the default 50 ms command timeout:
 * killed (connection refused), frozen (SIGSTOP: connection open, no answers), down at start-up,
 * and fail-closed. Every check must answer, none may throw, none may wait past the timeout.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../src/auth/principal.ts';
import { rateLimitRequest } from '../../src/rateLimit/index.ts';
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from '../../src/redis/index.ts';
import { startRedis, type RunningRedis } from '../../devkit/redis.ts';
import { until as waitFor } from '../../devkit/wait.ts';
import { startFleet, Traffic, type Fleet, type Instance } from '../helpers/rateLimit.ts';

const HOUR_MS = 3_600_000;
/** Scheduling slack on top of the command timeout for "no check waited longer than…". */
const SLACK_MS = 250;
const MAX_WAIT_MS = DEFAULT_REDIS_COMMAND_TIMEOUT_MS + SLACK_MS;
// 30 per hour: the fallback share is 10 per instance; nothing refills during a test.
const policies = { anonymous: { limit: 30, windowMs: HOUR_MS } };
// Reconnects back off up to 2 s (± jitter) and probes run every second: 15 s is generous.
const RECOVERY_TIMEOUT_MS = 15_000;

let server: RunningRedis;
let fleet: Fleet | undefined;

beforeEach(async () => {
  server = await startRedis();
});

afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
  await server.stop();
});

const modeEvents = (x: Instance, mode: string) => x.logs.find({ event: 'rate_limit_mode', mode });

describe('when Redis fails', () => {
  it('SIGKILL mid-run: no errors, bounded waits, one logged fallback, shared limiting resumes after restart', async () => {
    fleet = await startFleet(server.url, 3, { policies });
    const traffic = new Traffic(fleet, { key: 'ip:198.51.100.10', tier: 'anonymous' });
    await traffic.run(20);
    expect(traffic.results.every((r) => r.source === 'redis')).toBe(true);

    await server.kill('SIGKILL');
    await waitFor('every instance to fall back', () => fleet!.allIn('local-fallback'), { step: () => traffic.run(3).then(() => {}) });
    const during = await traffic.run(300);

    expect(traffic.errors).toEqual([]);
    expect(traffic.maxWaitMs).toBeLessThanOrEqual(MAX_WAIT_MS);
    expect(during.every((r) => r.source === 'local-fallback' && r.limit === 10)).toBe(true);
    // Each instance enforces its share on its own: at most 10 admitted per instance.
    expect(during.filter((r) => r.allowed).length).toBeLessThanOrEqual(30);
    for (const x of fleet.instances) {
      const fallbacks = modeEvents(x, 'local-fallback');
      expect(fallbacks).toHaveLength(1);
      expect(fallbacks[0]).toMatchObject({ level: 40, reason: expect.stringMatching(/^Redis unavailable: /) });
      expect(x.modes.at(-1)).toBe('local-fallback');
    }

    await server.restart();
    await waitFor('every instance to limit through Redis again', () => fleet!.allIn('redis'), {
      timeoutMs: RECOVERY_TIMEOUT_MS,
      step: () => traffic.run(3).then(() => {}),
    });
    for (const x of fleet.instances) {
      expect(modeEvents(x, 'redis')).toHaveLength(2); // first connect, then recovery
      expect(modeEvents(x, 'local-fallback')).toHaveLength(1);
      expect(x.modes).toEqual(['local-fallback', 'redis', 'local-fallback', 'redis']);
    }
    // The restarted Redis has an empty script cache (reloaded on reconnect) and no buckets: the
    // three instances share one bucket again, exactly.
    const after = new Traffic(fleet, { key: 'ip:198.51.100.11', tier: 'anonymous' });
    await after.run(90);
    expect(after.errors).toEqual([]);
    expect(after.results.filter((r) => r.allowed)).toHaveLength(30);
    expect(after.results.every((r) => r.source === 'redis' || r.source === 'hot-key-cache')).toBe(true);
    expect(traffic.errors).toEqual([]);
    expect(traffic.maxWaitMs).toBeLessThanOrEqual(MAX_WAIT_MS);
  });

  it('SIGSTOP (accepts, never answers): same as killed; SIGCONT resumes, and fallback traffic is never replayed', async () => {
    fleet = await startFleet(server.url, 3, { policies });
    const subject = { key: 'ip:198.51.100.20', tier: 'anonymous' };
    const traffic = new Traffic(fleet, subject);
    await traffic.run(5);

    await server.kill('SIGSTOP');
    try {
      await waitFor('every instance to fall back', () => fleet!.allIn('local-fallback'), { step: () => traffic.run(3).then(() => {}) });
      await traffic.run(120);
      expect(traffic.errors).toEqual([]);
      expect(traffic.maxWaitMs).toBeLessThanOrEqual(MAX_WAIT_MS);
      expect(traffic.results.slice(-120).every((r) => r.source === 'local-fallback')).toBe(true);
      for (const x of fleet.instances) expect(modeEvents(x, 'local-fallback')).toHaveLength(1);
    } finally {
      await server.kill('SIGCONT');
    }

    await waitFor('every instance to limit through Redis again', () => fleet!.allIn('redis'), { timeoutMs: RECOVERY_TIMEOUT_MS });
    // Only the EVALSHAs already on the wire when Redis froze (one per failed call) may have been
    // applied; the ~125 requests decided locally must not have been charged to Redis.
    const inFlight = fleet.instances.reduce((n, x) => n + x.limiter.stats().redisErrors, 0);
    expect(inFlight).toBeGreaterThanOrEqual(3);
    expect(inFlight).toBeLessThan(10);
    const next = await fleet.instances[0]!.limiter.check(subject);
    expect(next).toMatchObject({ allowed: true, source: 'redis', remaining: 30 - 5 - inFlight - 1 });
    expect(traffic.errors).toEqual([]);
  });

  it('starts with Redis down: serves locally at once, switches to Redis when it comes up', async () => {
    await server.kill('SIGKILL');
    fleet = await startFleet(server.url, 1, { policies }, { waitForRedis: false });
    const [instance] = fleet.instances;
    expect(instance!.logs.find({ event: 'rate_limit_start' })[0]).toMatchObject({
      mode: 'local-fallback',
      msg: expect.stringMatching(/shared through Redis at 127\.0\.0\.1:\d+ \(command timeout 50 ms\); falls back to per-instance limits at 1\/3/),
    });
    const traffic = new Traffic(fleet, { key: 'ip:198.51.100.30', tier: 'anonymous' });
    await traffic.run(20);
    expect(traffic.errors).toEqual([]);
    expect(traffic.maxWaitMs).toBeLessThanOrEqual(MAX_WAIT_MS);
    expect(traffic.results.every((r) => r.source === 'local-fallback')).toBe(true);
    expect(traffic.results.filter((r) => r.allowed)).toHaveLength(10);

    await server.restart();
    await waitFor('the instance to limit through Redis', () => fleet!.allIn('redis'), { timeoutMs: RECOVERY_TIMEOUT_MS });
    expect((await instance!.limiter.check({ key: 'ip:198.51.100.31', tier: 'anonymous' })).source).toBe('redis');
    expect(modeEvents(instance!, 'local-fallback')).toHaveLength(0); // waiting to connect is not a failure
  });

  it("failMode 'closed' rejects with 503 RATE_LIMITER_UNAVAILABLE while Redis is down, then recovers", async () => {
    fleet = await startFleet(server.url, 1, { policies, failMode: 'closed' });
    const limiter = fleet.instances[0]!.limiter;
    const request = { principal: ANONYMOUS, apiKey: undefined, remoteAddress: '198.51.100.40', xForwardedFor: undefined };
    expect((await rateLimitRequest(limiter, request)).allowed).toBe(true);

    await server.kill('SIGKILL');
    await waitFor('the limiter to notice', async () => (await limiter.check({ key: 'ip:x', tier: 'anonymous' })).rejection === 'limiter-unavailable');
    const out = await rateLimitRequest(limiter, request);
    expect(out).toMatchObject({ allowed: false, statusCode: 503, headers: { 'Retry-After': '1' } });
    if (out.allowed) throw new Error('unreachable');
    expect(out.body.errors[0].extensions.code).toBe('RATE_LIMITER_UNAVAILABLE');
    expect(limiter.describe()).toMatch(/rejects requests \(503\) while Redis is unreachable/);

    await server.restart();
    await waitFor('the limiter to use Redis again', () => limiter.mode() === 'redis', { timeoutMs: RECOVERY_TIMEOUT_MS });
    expect((await rateLimitRequest(limiter, request)).allowed).toBe(true);
  });

  it('an injected client without a command timeout is still bounded by the store', async () => {
    // A plain ioredis client (no commandTimeout, offline queue on): the limiter's own deadline
    // must still cap each check.
    const logs = (await import('../helpers/rateLimit.ts')).captureLogs();
    const redis = new Redis(server.url, { lazyConnect: true });
    const { createRateLimiter } = await import('../../src/rateLimit/index.ts');
    const limiter = createRateLimiter({ policies }, { logger: logs.logger, redis });
    try {
      await waitFor('redis mode', () => limiter.mode() === 'redis');
      await server.kill('SIGSTOP');
      const started = performance.now();
      const result = await limiter.check({ key: 'ip:198.51.100.50', tier: 'anonymous' });
      expect(performance.now() - started).toBeLessThanOrEqual(MAX_WAIT_MS);
      expect(result.source).toBe('local-fallback');
    } finally {
      await server.kill('SIGCONT');
      await limiter.close();
      redis.disconnect();
    }
  });
});
