import type { ApolloServerPlugin } from '@apollo/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PorticoContext } from '../request/context.ts';
import { costChargePlugin } from './costPlugin.ts';
import { createRateLimitHook, type RateLimitHookOptions } from './hook.ts';
import type { RateLimiter } from './limiter.ts';
import { createRateLimitQueue, type RateLimitQueue, type RateLimitQueueMetrics } from './queue.ts';

export interface RateLimitEdgeOptions extends RateLimitHookOptions {
  /** Longest wait for quota per tier, ms (PORTICO_RATE_LIMIT_MAX_WAIT). */
  readonly maxWaitMs: Readonly<Record<string, number>>;
  /** Most requests waiting per tier on this instance (PORTICO_RATE_LIMIT_QUEUE_SIZE). */
  readonly queueSize: number;
  /** Least cost charge per request (PORTICO_RATE_LIMIT_MIN_COST). */
  readonly minCost: number;
}

/** The two places a request is charged: the request count at the edge, the cost after parsing. */
export interface RateLimitEdge {
  /** Fastify preHandler, after authentication and the overload gate. */
  hook(req: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Apollo plugin, after the hardening plugin (which writes the estimate). */
  readonly costPlugin: ApolloServerPlugin<PorticoContext>;
  /** One queue per instance, shared by both charges. */
  readonly queue: RateLimitQueue;
}

/** Builds the queue, the edge hook and the cost charge around one limiter. */
export function createRateLimitEdge(limiter: RateLimiter, options: RateLimitEdgeOptions, deps: { metrics?: RateLimitQueueMetrics } = {}): RateLimitEdge {
  const queue = createRateLimitQueue(
    { maxWaitMs: options.maxWaitMs, queueSize: options.queueSize },
    { refund: (result, cost) => limiter.refund(result, cost), ...(deps.metrics ? { metrics: deps.metrics } : {}) },
  );
  return {
    hook: createRateLimitHook(limiter, queue, options),
    costPlugin: costChargePlugin(limiter, queue, { minCost: options.minCost }),
    queue,
  };
}
