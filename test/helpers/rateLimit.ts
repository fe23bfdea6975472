/** Shared pieces of the rate-limit tests: a real pino logger whose lines the test can read. */
import { pino, type Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { RedisClient } from '../../src/redis/index.ts';
import { until } from '../../devkit/wait.ts';
import { createRedisClient } from '../../src/redis/index.ts';
import {
  createRateLimiter,
  type RateLimiter,
  type RateLimiterMode,
  type RateLimiterOptions,
  type RateLimitResult,
  type RateLimitSubject,
} from '../../src/rateLimit/index.ts';

export interface CapturedLogs {
  readonly logger: Logger;
  readonly lines: Record<string, unknown>[];
  /** Lines whose fields include every given field. */
  find(fields: Record<string, unknown>): Record<string, unknown>[];
}

export function captureLogs(): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write(chunk: string) {
        for (const line of chunk.split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return {
    logger,
    lines,
    find: (fields) => lines.filter((l) => Object.entries(fields).every(([k, v]) => l[k] === v)),
  };
}

/** A clock the test moves by hand, ms. */
export function manualClock(startMs = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = startMs;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

/** One simulated gateway instance: its own ioredis client, limiter, logs and metric events. */
export interface Instance {
  readonly limiter: RateLimiter;
  readonly redis: RedisClient;
  readonly logs: CapturedLogs;
  readonly modes: RateLimiterMode[];
  readonly redisCommands: { ok: number; failed: number };
}

export interface Fleet {
  readonly instances: readonly Instance[];
  allIn(mode: RateLimiterMode): boolean;
  close(): Promise<void>;
}

/** `n` instances sharing the Redis at `url`; resolves once all of them limit through Redis. */
export async function startFleet(
  url: string,
  n: number,
  options: RateLimiterOptions & { commandTimeoutMs?: number },
  { waitForRedis = true }: { waitForRedis?: boolean } = {},
): Promise<Fleet> {
  const instances: Instance[] = [];
  for (let i = 0; i < n; i++) {
    const logs = captureLogs();
    const redis = createRedisClient({ url, commandTimeoutMs: options.commandTimeoutMs }, { logger: logs.logger });
    const modes: RateLimiterMode[] = [];
    const redisCommands = { ok: 0, failed: 0 };
    const limiter = createRateLimiter(options, {
      logger: logs.logger,
      redis,
      metrics: {
        onDecision: () => {},
        onModeChange: (m) => modes.push(m),
        onRedisCommand: (_s, ok) => void (ok ? redisCommands.ok++ : redisCommands.failed++),
      },
    });
    instances.push({ limiter, redis, logs, modes, redisCommands });
  }
  const fleet: Fleet = {
    instances,
    allIn: (mode) => instances.every((x) => x.limiter.mode() === mode),
    async close() {
      for (const x of instances) {
        await x.limiter.close();
        x.redis.disconnect();
      }
    },
  };
  if (waitForRedis) await until('every instance to limit through Redis', () => fleet.allIn('redis'));
  return fleet;
}

/** Sequential round-robin checks across a fleet, recording everything a test asserts on. */
export class Traffic {
  readonly results: RateLimitResult[] = [];
  readonly errors: unknown[] = [];
  maxWaitMs = 0;
  #next = 0;

  constructor(
    private readonly fleet: Fleet,
    private readonly subject: RateLimitSubject,
  ) {}

  async run(count: number, cost = 1): Promise<RateLimitResult[]> {
    const out: RateLimitResult[] = [];
    for (let i = 0; i < count; i++) {
      const instance = this.fleet.instances[this.#next++ % this.fleet.instances.length]!;
      const started = performance.now();
      try {
        out.push(await instance.limiter.check(this.subject, cost));
      } catch (error) {
        this.errors.push(error);
      }
      this.maxWaitMs = Math.max(this.maxWaitMs, performance.now() - started);
    }
    this.results.push(...out);
    return out;
  }
}

/** Calls and failed calls of EVALSHA and EVAL since the server started (or CONFIG RESETSTAT). */
export async function commandCalls(admin: Redis): Promise<Record<'evalsha' | 'eval', { calls: number; failed: number }>> {
  const info = await admin.info('commandstats');
  const read = (name: string) => {
    const line = new RegExp(`^cmdstat_${name}:(.*)$`, 'm').exec(info)?.[1] ?? '';
    return { calls: Number(/calls=(\d+)/.exec(line)?.[1] ?? 0), failed: Number(/failed_calls=(\d+)/.exec(line)?.[1] ?? 0) };
  };
  return { evalsha: read('evalsha'), eval: read('eval') };
}

/** Calls of the rate-limit script Redis has executed since the last CONFIG RESETSTAT. */
export async function scriptCalls(admin: Redis): Promise<number> {
  const { evalsha, eval: evalCalls } = await commandCalls(admin);
  return evalsha.calls + evalCalls.calls;
}
