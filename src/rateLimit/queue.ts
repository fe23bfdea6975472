import type { CallSignal } from '../request/signal.ts';
import type { RateLimitResult } from './types.ts';

/**
 * Queueing instead of rejecting, per tier: a request over its quota whose next units come back
 * within its tier's `maxWait` is admitted by reservation (GCRA says exactly when, see
 * `gcraStep`) and waits here until then, if this instance's queue for that tier has room.
 * Otherwise it is rejected (429) as without queueing. A waiting request leaves the queue when its
 * client disconnects (its reserved units are given back) and never waits past its deadline.
 */

/** Waiting requests per tier and instance, by default: bounds memory and sockets held by waits. */
export const DEFAULT_QUEUE_SIZE = 100;

/** Built-in waits: premium queues up to 2 s (a page load's patience); other tiers are refused at once. */
export const DEFAULT_MAX_WAIT_MS: Readonly<Record<string, number>> = Object.freeze({ premium: 2_000 });

/** Why a request that could have queued did not get its turn. */
export type QueueDropReason = 'full' | 'wait-too-long' | 'client-gone';

/** Hooks for the metrics module; `tier` is always a configured tier name. */
export interface RateLimitQueueMetrics {
  /** A tier that may queue, so its series exist (at 0) before the first wait. */
  declareTier?(tier: string): void;
  /** A request was admitted by reservation and starts waiting. */
  onQueued(tier: string): void;
  /** A queued request got its turn after `seconds`. */
  onWaited(tier: string, seconds: number): void;
  onDropped(tier: string, reason: QueueDropReason): void;
  /** Requests waiting in `tier`'s queue now. */
  onDepth(tier: string, depth: number): void;
}

export interface RateLimitQueueOptions {
  /** Longest wait per tier, ms; tiers not listed (or 0) never queue. Default {@link DEFAULT_MAX_WAIT_MS}. */
  readonly maxWaitMs?: Readonly<Record<string, number>>;
  /** Most requests waiting per tier on this instance. Default {@link DEFAULT_QUEUE_SIZE}. */
  readonly queueSize?: number;
}

export interface RateLimitQueueDeps {
  /** Gives back a reservation's units (the limiter's `refund`). Never rejects. */
  refund(result: RateLimitResult, cost: number): Promise<void>;
  readonly metrics?: RateLimitQueueMetrics;
}

/** One check to admit, as the queue sees it. */
export interface AdmitRequest {
  /** The tier whose policy applies (the limiter's `tierOf`). */
  readonly tier: string;
  /** Units the check charges (given back if the client leaves while queued). */
  readonly cost: number;
  /** Runs the check; `maxDelayMs` > 0 allows a reservation. Undefined: nothing to limit. */
  readonly check: (maxDelayMs: number) => Promise<RateLimitResult | undefined>;
  /** Aborted when the client goes away. */
  readonly signal?: CallSignal | undefined;
  /** Time left before the request's deadline, ms: no wait lasts longer. */
  readonly budgetMs: number;
}

export type Admission =
  /** Decided (allowed, possibly after `waitedMs` in the queue, or rejected); undefined result: no quota applies. */
  | { readonly kind: 'decided'; readonly result: RateLimitResult | undefined; readonly waitedMs: number }
  /** The client left while queued; the units were given back. */
  | { readonly kind: 'cancelled'; readonly result: RateLimitResult };

export interface RateLimitQueue {
  admit(request: AdmitRequest): Promise<Admission>;
  /** Requests waiting in `tier`'s queue now. */
  depth(tier: string): number;
  /** Longest wait of `tier`, ms (0: never queues). */
  maxWaitMs(tier: string): number;
}

const NO_METRICS: RateLimitQueueMetrics = { onQueued() {}, onWaited() {}, onDropped() {}, onDepth() {} };

export function createRateLimitQueue(options: RateLimitQueueOptions, deps: RateLimitQueueDeps): RateLimitQueue {
  const maxWait = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const size = options.queueSize ?? DEFAULT_QUEUE_SIZE;
  const metrics = deps.metrics ?? NO_METRICS;
  const depths = new Map<string, number>();
  const maxWaitOf = (tier: string): number => (Object.hasOwn(maxWait, tier) ? (maxWait[tier] ?? 0) : 0);
  for (const tier of Object.keys(maxWait)) if (maxWaitOf(tier) > 0) metrics.declareTier?.(tier);

  function take(tier: string): boolean {
    const d = depths.get(tier) ?? 0;
    if (d >= size) return false;
    depths.set(tier, d + 1);
    metrics.onDepth(tier, d + 1);
    return true;
  }
  function release(tier: string): void {
    const d = Math.max(0, (depths.get(tier) ?? 0) - 1);
    depths.set(tier, d);
    metrics.onDepth(tier, d);
  }

  async function admit(request: AdmitRequest): Promise<Admission> {
    const { tier, cost, signal } = request;
    const wait = Math.max(0, Math.min(maxWaitOf(tier), Math.floor(request.budgetMs)));
    // A place is taken before asking, so concurrent checks cannot all be granted the last one;
    // it is handed back at once by a check that needs no wait.
    const placed = wait > 0 && !signal?.aborted && take(tier);
    let result: RateLimitResult | undefined;
    try {
      result = await request.check(placed ? wait : 0);
    } catch (error) {
      if (placed) release(tier);
      throw error;
    }
    if (!result || !result.allowed || result.waitMs === 0) {
      if (placed) release(tier);
      if (result && !result.allowed && result.rejection === 'quota' && maxWaitOf(tier) > 0) {
        metrics.onDropped(tier, placed ? 'wait-too-long' : 'full');
      }
      return { kind: 'decided', result, waitedMs: 0 };
    }
    metrics.onQueued(tier);
    const started = performance.now();
    const turn = await sleep(result.waitMs, signal);
    release(tier);
    if (!turn) {
      metrics.onDropped(tier, 'client-gone');
      await deps.refund(result, cost);
      return { kind: 'cancelled', result };
    }
    const waitedMs = performance.now() - started;
    metrics.onWaited(tier, waitedMs / 1_000);
    return { kind: 'decided', result, waitedMs };
  }

  return { admit, depth: (tier) => depths.get(tier) ?? 0, maxWaitMs: maxWaitOf };
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: CallSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
