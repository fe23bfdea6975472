import type { Logger } from 'pino';
import type { RedisClient } from '../redis/client.ts';
import { withDeadline } from '../redis/deadline.ts';
import { initialMode, modeOf, transition, unavailableReason, type ModeMachine } from './mode.ts';
import type { RateLimitFailMode, RateLimiterMode } from './types.ts';
import { extend } from '../runtime/objects.ts';

/**
 * How often a limiter in fallback checks that Redis answers again, ms. With ioredis reconnecting
 * within 2 s, shared limiting resumes about 3 s after Redis does at worst.
 */
export const DEFAULT_PROBE_INTERVAL_MS = 1_000;

export interface ModeTrackerOptions {
  readonly failMode: RateLimitFailMode;
  /** Named in each mode-change log line. */
  readonly expectedInstances: number;
  /** Budget of one probe, ms. */
  readonly commandTimeoutMs: number;
}

export interface ModeTrackerDeps {
  readonly logger: Logger;
  /** Undefined: `memory` mode for good. */
  readonly redis: RedisClient | undefined;
  /** The instance count the fallback divides by now, named in each mode-change log line. */
  liveInstances?(): number;
  onModeChange(mode: RateLimiterMode): void;
  /** Redis answers again after a fallback: re-read what may have changed meanwhile. */
  onRecovered(): void;
}

export interface ModeTracker {
  mode(): RateLimiterMode;
  /** The current epoch; hand it back to `redisFailed` for a command sent now. */
  epoch(): number;
  /** A bucket update sent at `startedEpoch` failed: fall back, unless the mode changed since. */
  redisFailed(startedEpoch: number, error: unknown): void;
  /** In fallback, ping Redis and return to shared limits if it answers in time. */
  probe(): Promise<void>;
  /** Freezes the mode as it is. True the first time, false after. */
  close(): boolean;
}

/**
 * The live mode of one limiter: the machine of `mode.ts`, with each change logged once (a warning
 * when limits stop being shared: a fallback is loud) and counted, and the Redis probe that ends
 * a fallback.
 */
export function createModeTracker(options: ModeTrackerOptions, deps: ModeTrackerDeps): ModeTracker {
  const { logger, redis } = deps;
  const { failMode, expectedInstances } = options;
  let machine: ModeMachine = initialMode(!redis ? 'none' : redis.status === 'ready' ? 'ready' : 'connecting');
  let probing = false;

  function changeTo(next: ModeMachine, reason: string, error?: unknown): void {
    machine = next;
    const currentMode = modeOf(next.state);
    const fields = { event: 'rate_limit_mode', mode: currentMode, reason, failMode, expectedInstances, liveInstances: deps.liveInstances?.() ?? expectedInstances };
    if (currentMode === 'redis') logger.info(fields, 'rate limiting is shared through Redis');
    else {
      const effect = failMode === 'open' ? 'fell back to per-instance limits' : 'is rejecting requests (failMode closed)';
      logger.warn(extend(fields, { err: error }), `rate limiting ${effect}: ${reason}`);
    }
    deps.onModeChange(currentMode);
  }

  function redisFailed(startedEpoch: number, error: unknown): void {
    const reason = unavailableReason(error);
    const next = transition(machine, { kind: 'redis-failed', epoch: startedEpoch, reason });
    if (next) changeTo(next, reason, error);
  }

  async function probe(): Promise<void> {
    if (!redis || machine.state.kind !== 'local-fallback' || probing) return;
    // A lazily created client connects on first use; without an offline queue the limiter never
    // "uses" it while in fallback, so start the connection here.
    if (redis.status === 'wait') redis.connect().catch(() => {});
    if (redis.status !== 'ready') return;
    probing = true;
    const started = machine.epoch;
    try {
      await withDeadline(redis.ping(), options.commandTimeoutMs);
      const next = transition(machine, { kind: 'redis-answered', epoch: started });
      if (next) {
        changeTo(next, 'Redis answers again');
        deps.onRecovered();
      }
    } catch (error) {
      logger.debug({ err: error }, 'rate-limit Redis probe failed');
    } finally {
      probing = false;
    }
  }

  return {
    mode: () => modeOf(machine.state),
    epoch: () => machine.epoch,
    redisFailed,
    probe,
    close() {
      const next = transition(machine, { kind: 'close' });
      if (!next) return false;
      machine = next;
      return true;
    },
  };
}
