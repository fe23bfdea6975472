import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestState } from '../request/state.ts';
import type { RateLimiter } from './limiter.ts';
import { rateLimitRequest } from './http.ts';

export interface RateLimitHookOptions {
  /** Proxies in front of the gateway that append to `X-Forwarded-For` (HAProxy: 1). */
  trustedHops: number;
  /** Header carrying an API key; only keys listed in `apiKeys` count. */
  apiKeyHeader: string;
  /** sha256 (hex) of each accepted API key → its tier. Unknown keys are ignored. */
  apiKeys: Readonly<Record<string, string>>;
}

/**
 * The rate-limit step at the HTTP edge, after authentication and before anything costs more:
 * a rejected request reaches no subgraph. Every response carries the RateLimit fields.
 */
export function createRateLimitHook(limiter: RateLimiter, options: RateLimitHookOptions) {
  const header = options.apiKeyHeader.toLowerCase();
  return async function rateLimit(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    // This instance's own synthetic probes (src/probes/) are exempt: they must see an outage, not a quota.
    if (requestState(req).probe) return;
    // Only a known key (matched by its hash, so the configuration holds no secrets) names a
    // client; an unknown one would let anyone mint a fresh bucket per request.
    const raw = req.headers[header];
    const presented = typeof raw === 'string' && raw.length > 0 && raw.length <= 256 ? raw : undefined;
    const apiKeyTier = presented ? options.apiKeys[createHash('sha256').update(presented).digest('hex')] : undefined;
    const out = await rateLimitRequest(limiter, {
      principal: requestState(req).principal,
      apiKey: apiKeyTier ? presented : undefined,
      apiKeyTier,
      remoteAddress: req.socket.remoteAddress,
      xForwardedFor: req.headers['x-forwarded-for'],
      trustedHops: options.trustedHops,
    });
    reply.headers(out.headers as Record<string, string>);
    if (!out.allowed) {
      await reply.code(out.statusCode).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(out.body));
    }
  };
}
