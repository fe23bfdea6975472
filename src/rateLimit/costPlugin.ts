import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import type { PorticoContext } from '../request/context.ts';
import { mergeRateLimitHeaders, QUEUED_HEADER, rateLimitedBody, rateLimitHeaders, rateLimitStatus } from './http.ts';
import type { RateLimiter } from './limiter.ts';
import type { RateLimitQueue } from './queue.ts';

/**
 * Least a request is charged against a cost quota, in cost units. The model (hardening/cost.ts)
 * prices `{ __typename }` and scalar-only queries at 0; every request still costs the gateway a
 * parse and a round trip, so none is free.
 */
export const DEFAULT_MIN_COST_CHARGE = 1;

export interface CostChargeOptions {
  /** Least charge per request, cost units. Default {@link DEFAULT_MIN_COST_CHARGE}. */
  readonly minCost?: number;
}

/**
 * Cost-weighted quotas. The request-count limit runs at the HTTP edge, before the body is parsed;
 * the cost estimate exists only once the operation is parsed, validated and resolved
 * (hardening plugin, `didResolveOperation`). So the cost charge is a plugin hook that runs after
 * every `didResolveOperation` has passed (an operation refused by hardening or authorization is
 * never charged) and before anything executes: `responseForOperation`, which answers 429 itself
 * when the quota is spent. A tier with a maxWait queues here as at the edge.
 */
export function costChargePlugin(
  limiter: Pick<RateLimiter, 'checkCost' | 'tierOf'>,
  queue: RateLimitQueue,
  options: CostChargeOptions = {},
): ApolloServerPlugin<PorticoContext> {
  const minCost = options.minCost ?? DEFAULT_MIN_COST_CHARGE;
  return {
    async requestDidStart() {
      let headers: Record<string, string> | undefined;
      return {
        async responseForOperation({ contextValue: ctx }) {
          const note = ctx.rateLimit;
          // This instance's own synthetic probes (src/probes/) are exempt, as from the request quota.
          if (!note || ctx.probe) return null;
          const charge = Math.max(minCost, Math.ceil(ctx.cost?.estimated ?? 0));
          const admission = await queue.admit({
            tier: limiter.tierOf(note.subject.tier),
            cost: charge,
            check: (maxDelayMs) => limiter.checkCost(note.subject, charge, { maxDelayMs }),
            signal: ctx.signal,
            budgetMs: ctx.deadlineAt - performance.now(),
          });
          const result = admission.result;
          if (!result) return null;
          headers = mergeRateLimitHeaders(note.headers, rateLimitHeaders(result, result.policy));
          if (admission.kind === 'decided') {
            note.queuedMs += admission.waitedMs;
            if (result.allowed) return null;
          }
          // Refused (or the client left while queued): answered here, nothing executes.
          return {
            http: { status: rateLimitStatus(result), headers: new HeaderMap() },
            body: { kind: 'single', singleResult: { errors: rateLimitedBody(result).errors } },
          };
        },
        async willSendResponse({ response, contextValue }) {
          if (!headers) return;
          for (const [name, value] of Object.entries(headers)) response.http.headers.set(name.toLowerCase(), value);
          const queued = contextValue.rateLimit?.queuedMs ?? 0;
          if (queued > 0) response.http.headers.set(QUEUED_HEADER, String(Math.round(queued)));
        },
      };
    },
  };
}
