import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimitNote } from '../request/context.ts';
import { CLIENT_CLOSED_REQUEST } from '../request/context.ts';
import { LightAbort } from '../request/signal.ts';
import { requestState } from '../request/state.ts';
import type { RateLimiter } from './limiter.ts';
import { QUEUED_HEADER, rateLimitedBody, rateLimitHeaders, rateLimitStatus } from './http.ts';
import type { RateLimitQueue } from './queue.ts';
import { resolveRateLimitSubject } from './subject.ts';

export interface RateLimitHookOptions {
  /** Proxies in front of the gateway that append to `X-Forwarded-For` (HAProxy: 1). */
  trustedHops: number;
  /** Header carrying an API key; only keys listed in `apiKeys` count. */
  apiKeyHeader: string;
  /** sha256 (hex) of each accepted API key → its tier. Unknown keys are ignored. */
  apiKeys: Readonly<Record<string, string>>;
  /**
   * A request's whole budget from arrival, ms (PORTICO_REQUEST_DEADLINE_MS): a wait in the queue
   * ends before it. Default: no bound beyond the tier's maxWait.
   */
  requestDeadlineMs?: number;
}

/**
 * Who a request is charged to, resolved once and kept on its state (`state.rateLimit`): the
 * overload gate reads the tier from it before the rate limit runs, the cost charge after parsing.
 */
export function createRateLimitSubjectResolver(options: RateLimitHookOptions) {
  const header = options.apiKeyHeader.toLowerCase();
  return function rateLimitNoteOf(req: FastifyRequest): RateLimitNote {
    const state = requestState(req);
    if (state.rateLimit) return state.rateLimit;
    // Only a known key (matched by its hash, so the configuration holds no secrets) names a
    // client; an unknown one would let anyone mint a fresh bucket per request.
    const raw = req.headers[header];
    const presented = typeof raw === 'string' && raw.length > 0 && raw.length <= 256 ? raw : undefined;
    const apiKeyTier = presented ? options.apiKeys[createHash('sha256').update(presented).digest('hex')] : undefined;
    const subject = resolveRateLimitSubject({
      principal: state.principal,
      apiKey: apiKeyTier ? presented : undefined,
      apiKeyTier,
      remoteAddress: req.socket.remoteAddress,
      xForwardedFor: req.headers['x-forwarded-for'],
      trustedHops: options.trustedHops,
    });
    state.rateLimit = { subject: { key: subject.key, tier: subject.tier }, headers: {}, queuedMs: 0 };
    return state.rateLimit;
  };
}

/**
 * The rate-limit step at the HTTP edge, after authentication and before anything costs more:
 * a rejected request reaches no subgraph. Every response carries the RateLimit fields. A tier
 * with a maxWait queues here instead of being refused (`queue.ts`).
 */
export function createRateLimitHook(limiter: RateLimiter, queue: RateLimitQueue, options: RateLimitHookOptions) {
  const noteOf = createRateLimitSubjectResolver(options);
  const deadlineMs = options.requestDeadlineMs ?? Number.POSITIVE_INFINITY;
  return async function rateLimit(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    // This instance's own synthetic probes (src/probes/) are exempt: they must see an outage, not a quota.
    if (requestState(req).probe) return;
    const note = noteOf(req);
    const state = requestState(req);
    // The state's own signal follows the client only once GraphQL starts: listen here too.
    const gone = new LightAbort();
    const onClose = (): void => {
      if (!reply.raw.writableFinished) gone.abort();
    };
    reply.raw.once('close', onClose);
    const admission = await queue.admit({
      tier: limiter.tierOf(note.subject.tier),
      cost: 1,
      check: (maxDelayMs) => limiter.check(note.subject, 1, { maxDelayMs }),
      signal: gone,
      budgetMs: deadlineMs - (performance.now() - state.startedAt),
    });
    reply.raw.off('close', onClose);
    if (admission.kind === 'cancelled') {
      // Nobody is listening; end the request without running anything for it.
      await reply.code(CLIENT_CLOSED_REQUEST).send();
      return;
    }
    const result = admission.result!;
    note.headers = rateLimitHeaders(result, result.policy);
    note.queuedMs += admission.waitedMs;
    reply.headers(note.headers);
    if (note.queuedMs > 0) void reply.header(QUEUED_HEADER, String(Math.round(note.queuedMs)));
    if (!result.allowed) {
      await reply.code(rateLimitStatus(result)).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(rateLimitedBody(result)));
    }
  };
}
