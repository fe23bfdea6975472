import type { RateLimiterMode } from './types.ts';

/**
 * The limiter's mode as a pure state machine, so every transition is unit-tested without Redis or
 * timers. `modeTracker.ts` holds the live machine, logs and counts each change, and probes Redis.
 */

/** Where the limiter is. `closed` remembers the last mode, so `mode()` still answers after close. */
export type ModeState =
  | { readonly kind: 'memory' }
  | { readonly kind: 'redis' }
  | { readonly kind: 'local-fallback'; readonly reason: string }
  | { readonly kind: 'closed'; readonly last: RateLimiterMode };

/**
 * The state and its epoch. The epoch is bumped on every mode change: a Redis failure that started
 * before the last change (e.g. a command sent before Redis froze, answered after it came back) must
 * not flip the mode again.
 */
export interface ModeMachine {
  readonly state: ModeState;
  readonly epoch: number;
}

export type ModeEvent =
  /** A bucket update sent at `epoch` failed or timed out. */
  | { readonly kind: 'redis-failed'; readonly epoch: number; readonly reason: string }
  /** A probe sent at `epoch` was answered. */
  | { readonly kind: 'redis-answered'; readonly epoch: number }
  | { readonly kind: 'close' };

/** The Redis connection when the limiter is built: none configured, ready, or not yet connected. */
export type RedisAtStart = 'none' | 'ready' | 'connecting';

export function initialMode(redis: RedisAtStart): ModeMachine {
  switch (redis) {
    case 'none':
      return { state: { kind: 'memory' }, epoch: 0 };
    case 'ready':
      return { state: { kind: 'redis' }, epoch: 0 };
    case 'connecting':
      // Waiting for the first connection is not a failure: it starts in fallback without a warning.
      return { state: { kind: 'local-fallback', reason: 'connecting' }, epoch: 0 };
    default: {
      const exhaustive: never = redis;
      throw new Error(`unknown Redis start state ${String(exhaustive)}`);
    }
  }
}

export function modeOf(state: ModeState): RateLimiterMode {
  return state.kind === 'closed' ? state.last : state.kind;
}

/**
 * The machine after `event`, or `undefined` when the event changes nothing: it does not apply in
 * this state, or it started in an earlier epoch.
 */
export function transition(machine: ModeMachine, event: ModeEvent): ModeMachine | undefined {
  const { state, epoch } = machine;
  switch (event.kind) {
    case 'redis-failed':
      if (state.kind !== 'redis' || event.epoch !== epoch) return undefined;
      return { state: { kind: 'local-fallback', reason: event.reason }, epoch: epoch + 1 };
    case 'redis-answered':
      if (state.kind !== 'local-fallback' || event.epoch !== epoch) return undefined;
      return { state: { kind: 'redis' }, epoch: epoch + 1 };
    case 'close':
      // Not a mode change: the epoch stays, and nothing is logged or counted.
      if (state.kind === 'closed') return undefined;
      return { state: { kind: 'closed', last: modeOf(state) }, epoch };
    default: {
      const exhaustive: never = event;
      throw new Error(`unknown rate limiter mode event ${JSON.stringify(exhaustive)}`);
    }
  }
}

/** The fallback reason for a failed Redis command, as logged. */
export function unavailableReason(error: unknown): string {
  return `Redis unavailable: ${error instanceof Error ? error.message : String(error)}`;
}
