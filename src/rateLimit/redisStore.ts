import { createHash } from 'node:crypto';
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS, type RedisClient } from '../redis/client.ts';
import { withDeadline } from '../redis/deadline.ts';
import { loadScriptEverywhere } from '../redis/scripts.ts';
import { gcraParams } from './gcra.ts';
import type { RateLimitPolicy } from './policies.ts';
import { usToMs, type RateLimitDecision, type RateLimitStore } from './store.ts';

/** Namespace of every key this folder writes. */
export const RATE_LIMIT_KEY_PREFIX = 'portico:rl:';

/**
 * The bucket's key. The whole bucket id is the hash tag, so on Redis Cluster the one key of each
 * call maps to one slot and the script runs there; distinct buckets still spread across slots.
 */
export function bucketKey(prefix: string, bucketId: string): string {
  return `${prefix}{${bucketId}}`;
}

/**
 * GCRA step, atomically, on Redis's clock: the line-by-line port of `gcraStep` in `gcra.ts`
 * (same names). Server time means instances with skewed clocks still share one timeline.
 * Integers only: Lua numbers are doubles, exact below 2^53 µs (year 2255); `%d` keeps the stored
 * TAT exact where `tostring` would round it to 14 digits.
 *
 * KEYS[1] bucket; ARGV[1] intervalUs; ARGV[2] burstUs; ARGV[3] cost; ARGV[4] maxDelayUs (a
 * reservation up to that far ahead, see `gcraStep`).
 * Returns { allowed 0|1, remaining, retryAfterUs, resetUs, waitUs }.
 */
export const GCRA_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local max_delay = tonumber(ARGV[4]) or 0
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + cost * interval
local allow_at = new_tat - burst
if allow_at > now + max_delay then
  local used = tat - now
  return { 0, math.max(0, math.floor((burst - used) / interval)), allow_at - now, used, 0 }
end
local used = new_tat - now
if used > 0 then
  redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil(used / 1000))
end
return { 1, math.max(0, math.floor((burst - used) / interval)), 0, used, math.max(0, allow_at - now) }
`;

/**
 * `gcraRefund` on Redis's clock: gives back units a reservation charged.
 * KEYS[1] bucket; ARGV[1] intervalUs; ARGV[2] cost. Returns 1.
 */
export const GCRA_REFUND_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local stored = tonumber(redis.call('GET', KEYS[1]))
if not stored then return 1 end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = stored - tonumber(ARGV[2]) * tonumber(ARGV[1])
if tat > now then
  redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
else
  redis.call('DEL', KEYS[1])
end
return 1
`;

const GCRA_LUA_SHA1 = createHash('sha1').update(GCRA_LUA).digest('hex');

export interface RedisStoreOptions {
  /** Key namespace. Default `RATE_LIMIT_KEY_PREFIX` (`portico:rl:`). */
  readonly keyPrefix?: string;
  /**
   * Longest a `consume` may take, ms. The store enforces it itself (see `withDeadline`), so an
   * injected client without a `commandTimeout` cannot stall requests either.
   * Default `DEFAULT_REDIS_COMMAND_TIMEOUT_MS` (50).
   */
  readonly commandTimeoutMs?: number;
}

export interface RedisStoreDeps {
  /** Should be built by `createRedisClient` (no offline queue, no resend of unanswered commands). */
  readonly redis: RedisClient;
}

/**
 * Buckets shared by every gateway instance: one EVALSHA per request (the script is loaded on every
 * connect; EVAL once if SCRIPT FLUSH emptied the cache since), each key written with a TTL equal
 * to its refill time.
 */
export class RedisStore implements RateLimitStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #timeoutMs: number;

  constructor(options: RedisStoreOptions, deps: RedisStoreDeps) {
    this.#redis = deps.redis;
    this.#prefix = options.keyPrefix ?? RATE_LIMIT_KEY_PREFIX;
    this.#timeoutMs = options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS;
    // Load the script on every (re)connect, before any request can use the connection: a fresh or
    // restarted Redis has an empty script cache, and NOSCRIPT → EVAL would make the first request
    // two round trips, enough to miss the 50 ms budget after an event-loop stall and send a
    // healthy Redis into fallback. Commands on one connection run in order, so every later EVALSHA
    // finds the script. NOSCRIPT → EVAL stays for a SCRIPT FLUSH between two connects.
    // On a Cluster each primary has its own script cache: load it on every one.
    const load = (): void => void loadScriptEverywhere(this.#redis, GCRA_LUA);
    this.#redis.on('ready', load);
    if (this.#redis.status === 'ready') load();
  }

  async consume(bucketId: string, policy: RateLimitPolicy, cost: number, maxDelayMs = 0): Promise<RateLimitDecision> {
    const { intervalUs, burstUs } = gcraParams(policy.limit, policy.windowMs);
    const key = bucketKey(this.#prefix, bucketId);
    const reply = await withDeadline(this.#run(key, [intervalUs, burstUs, cost, Math.floor(maxDelayMs * 1_000)]), this.#timeoutMs);
    return toDecision(reply, policy);
  }

  async refund(bucketId: string, policy: RateLimitPolicy, cost: number): Promise<void> {
    // Rare (a client leaving while queued): plain EVAL, no script cache to keep warm.
    const { intervalUs } = gcraParams(policy.limit, policy.windowMs);
    await withDeadline(this.#redis.eval(GCRA_REFUND_LUA, 1, bucketKey(this.#prefix, bucketId), intervalUs, cost), this.#timeoutMs);
  }

  async #run(key: string, args: number[]): Promise<unknown> {
    try {
      return await this.#redis.evalsha(GCRA_LUA_SHA1, 1, key, ...args);
    } catch (error) {
      // NOSCRIPT is Redis's error code (first word of the reply) for an empty script cache,
      // e.g. after a restart. EVAL runs the script and caches it for the next EVALSHA.
      if (!isNoScript(error)) throw error;
      return await this.#redis.eval(GCRA_LUA, 1, key, ...args);
    }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError' && error.message.startsWith('NOSCRIPT');
}

function toDecision(reply: unknown, policy: RateLimitPolicy): RateLimitDecision {
  if (!Array.isArray(reply) || reply.length !== 5 || !reply.every((v) => typeof v === 'number')) {
    throw new Error(`unexpected reply from the rate-limit script: ${JSON.stringify(reply)}`);
  }
  const [allowed, remaining, retryAfterUs, resetUs, waitUs] = reply as [number, number, number, number, number];
  return {
    allowed: allowed === 1,
    limit: policy.limit,
    remaining: Math.min(policy.limit, remaining),
    resetMs: usToMs(resetUs),
    retryAfterMs: usToMs(retryAfterUs),
    waitMs: usToMs(waitUs),
  };
}
