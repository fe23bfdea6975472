import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../errors/catalogue.ts';
import { refusalBody } from '../errors/refusal.ts';
import { requestState } from '../request/state.ts';
import { isShed, nextShedState, NO_SHEDDING, pressureOf, rankOf, type OverloadThresholds, type ShedState } from './decision.ts';
import { createOverloadMonitor, type OverloadMonitor } from './monitor.ts';
import { extend } from '../runtime/objects.ts';

/**
 * Defaults (docs/overload.md, "How the default works"):
 * - the adaptive in-flight limit (`limit.ts`) with a standing event-loop delay target of 20 ms:
 *   the least lag of any tick over a second. Measured on the shared two-core host: 0-10 ms for a
 *   healthy instance and for a closed loop of 50 clients at full capacity (the loop drains
 *   between bursts), 0-8 ms for the integration tests' traffic in most runs; 20-290 ms at
 *   twice the capacity, where it never drains. A crowded host can lift it in a test process
 *   that holds clients, mocks and gateway (113 ms for 12 clients): a queue is blamed on the
 *   requests only from 20 in flight (`MIN_ADAPTIVE_LIMIT`);
 * - a mean event-loop delay of 250 ms sustained over two 500 ms windows, a backstop: a loop that
 *   late on average for a second is well past its CPU capacity (a first default of 100 ms refused
 *   ordinary test traffic on the crowded host, so the mean alone cannot be the default signal);
 * - no fixed in-flight limit: how many requests are legitimately in flight depends on subgraph
 *   latency (a slow subgraph multiplies it), so only an operator who knows it sets one.
 */
export const DEFAULT_OVERLOAD_STANDING_DELAY_MS = 20;
export const DEFAULT_OVERLOAD_EVENT_LOOP_DELAY_MS = 250;
export const DEFAULT_OVERLOAD_MAX_IN_FLIGHT = 0;
/** Lowest priority first: the order tiers are shed in. */
export const DEFAULT_OVERLOAD_TIER_ORDER: readonly string[] = Object.freeze(['anonymous', 'free', 'premium']);
/** Retry-After of a shed request, s: long enough for a new delay reading (two windows). */
export const OVERLOAD_RETRY_AFTER_S = 2;

/** Hooks for the metrics module. */
export interface OverloadMetrics {
  /** The tiers that may be shed, so their series exist (at 0) before the first shed. */
  declareTiers?(tiers: readonly string[]): void;
  onShed(tier: string): void;
  /** Read at scrape time. */
  bind(read: () => OverloadSnapshot): void;
}

export interface OverloadSnapshot {
  readonly eventLoopDelayMs: number;
  readonly inFlight: number;
  readonly standingDelayMs: number;
  /** Infinity while no limit is learned. */
  readonly adaptiveLimit: number;
  readonly pressure: number;
  /** Tiers shed now, lowest priority first. */
  readonly shedTiers: readonly string[];
}

export interface OverloadGateOptions extends OverloadThresholds {
  /**
   * Standing event-loop delay the adaptive in-flight limit keeps the instance under, ms
   * (`limit.ts`); 0 = no adaptive limit (only the fixed thresholds). Default
   * {@link DEFAULT_OVERLOAD_STANDING_DELAY_MS}.
   */
  readonly standingDelayMs?: number;
  /**
   * False: measure and report only (metrics, status), never shed (PORTICO_OVERLOAD_SHEDDING=false),
   * so an operator sees what shedding would act on before turning it on. Default true.
   */
  readonly enabled?: boolean;
  /** Tiers, lowest priority first. Default {@link DEFAULT_OVERLOAD_TIER_ORDER}. */
  readonly tierOrder?: readonly string[];
  /** Window of each event-loop delay reading, ms. Default 500. */
  readonly sampleWindowMs?: number;
}

export interface OverloadGateDeps {
  /** The request's tier, as the rate limit will charge it (a configured tier name). */
  tierOf(req: FastifyRequest): string;
  readonly metrics?: OverloadMetrics;
  /** Measures the instance; default a real one (event-loop delay histogram). */
  readonly monitor?: OverloadMonitor;
}

export interface OverloadGate {
  /** Fastify preHandler: after authentication (the tier is known), before the rate limit. */
  hook(req: FastifyRequest, reply: FastifyReply): Promise<void>;
  snapshot(): OverloadSnapshot;
  close(): void;
}

/**
 * Priority load shedding: each GraphQL request is admitted or shed (503 `OVERLOADED` +
 * Retry-After) from this instance's own load, lowest tier first (`decision.ts`). Shed requests
 * are refused before any quota is charged or anything is parsed, so shedding is cheap; admitted
 * ones count as in flight until their answer is final. Health endpoints never pass here: an
 * overloaded instance still answers its probes (docs/overload.md, "Readiness").
 */
export function createOverloadGate(options: OverloadGateOptions, deps: OverloadGateDeps): OverloadGate {
  const order = options.tierOrder ?? DEFAULT_OVERLOAD_TIER_ORDER;
  const enabled = options.enabled ?? true;
  const thresholds: OverloadThresholds = { eventLoopDelayMs: options.eventLoopDelayMs, maxInFlight: options.maxInFlight };
  const monitor =
    deps.monitor ??
    createOverloadMonitor({
      sampleWindowMs: options.sampleWindowMs,
      standingDelayTargetMs: options.standingDelayMs ?? DEFAULT_OVERLOAD_STANDING_DELAY_MS,
    });
  let state: ShedState = NO_SHEDDING;
  // When each rank last sent a request: a tier is shed only in favour of a higher one present.
  const lastSeenMs = order.map(() => Number.NEGATIVE_INFINITY);

  function current(): { pressure: number; level: number } {
    const pressure = pressureOf(monitor.signals(), thresholds);
    state = nextShedState(pressure, order.length, state, performance.now());
    return { pressure, level: state.level };
  }

  function snapshot(): OverloadSnapshot {
    const { pressure, level: shed } = current();
    const signals = monitor.signals();
    return extend(signals, { pressure, shedTiers: enabled ? order.slice(0, shed) : [] });
  }
  deps.metrics?.bind(snapshot);
  deps.metrics?.declareTiers?.(order);

  return {
    async hook(req, reply) {
      // This instance's own synthetic probes (src/probes/) are never shed: they report what
      // callers get, and one every 30 s costs nothing.
      if (enabled && !requestState(req).probe) {
        const tier = deps.tierOf(req);
        const rank = rankOf(tier, order);
        const now = performance.now();
        lastSeenMs[rank] = now;
        const { level: shed } = current();
        if (isShed(rank, shed, lastSeenMs, now)) {
          deps.metrics?.onShed(tier);
          const message = `Portico is overloaded and serves higher tiers first: ${tier} requests are refused for now; retry after ${OVERLOAD_RETRY_AFTER_S} s`;
          await reply
            .code(503)
            .header('retry-after', String(OVERLOAD_RETRY_AFTER_S))
            .header('content-type', 'application/json; charset=utf-8')
            .send(JSON.stringify(refusalBody(ErrorCode.OVERLOADED, message, { retryAfter: OVERLOAD_RETRY_AFTER_S, tier })));
          return;
        }
      }
      monitor.enter();
      // 'close' follows 'finish' on every response, and also ends one the client abandoned.
      reply.raw.once('close', () => monitor.leave());
    },
    snapshot,
    close: () => monitor.close(),
  };
}
