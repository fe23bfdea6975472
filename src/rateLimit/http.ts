import { ErrorCode } from '../errors/catalogue.ts';
import { refusalBody, type RefusalBody } from '../errors/refusal.ts';
import type { RateLimiter } from './limiter.ts';
import type { RateLimitResult } from './types.ts';
import type { NamedRateLimitPolicy } from './policies.ts';
import { resolveRateLimitSubject, type RateLimitSubjectInput } from './subject.ts';

/** Response headers of a rate-limited response; names as sent on the wire. */
export type RateLimitHeaders = Record<string, string>;

/** Codes of a rejected request: quota spent (429), or no decision could be made (503). */
export type RateLimitErrorCode = typeof ErrorCode.RATE_LIMITED | typeof ErrorCode.RATE_LIMITER_UNAVAILABLE;

/** GraphQL response body of a rejected request. */
export type RateLimitedBody = RefusalBody<
  RateLimitErrorCode,
  {
    /** Seconds until a retry can succeed (same as the Retry-After header). */
    retryAfter: number;
    tier: string;
  }
>;

/**
 * Headers per draft-ietf-httpapi-ratelimit-headers (-08 onwards): the quota policy and the
 * caller's current standing in it, plus Retry-After on rejections.
 * `RateLimit-Policy: "anonymous";q=60;w=60` and `RateLimit: "anonymous";r=12;t=30`, where r is
 * the units left and t the seconds until the bucket is full again. Without a usable decision
 * (limiter unavailable) only Retry-After is sent: advertising a quota would be a guess.
 */
export function rateLimitHeaders(result: RateLimitResult, policy: NamedRateLimitPolicy): RateLimitHeaders {
  const headers: RateLimitHeaders = {};
  if (result.rejection !== 'limiter-unavailable') {
    // A cost quota speaks in cost units: its own name, and the draft's quota-unit parameter.
    const cost = policy.unit === 'cost';
    const name = sfString(cost ? `${policy.name}-cost` : policy.name);
    headers['RateLimit-Policy'] = `${name};q=${policy.limit};w=${ceilSeconds(policy.windowMs)}${cost ? ';qu="cost"' : ''}`;
    headers['RateLimit'] = `${name};r=${Math.max(0, result.remaining)};t=${ceilSeconds(result.resetMs)}`;
  }
  if (!result.allowed) headers['Retry-After'] = String(retryAfterSeconds(result));
  return headers;
}

/** Retry-After in whole seconds, never 0 (a 0 invites an immediate, certain-to-fail retry). */
export function retryAfterSeconds(result: RateLimitResult): number {
  return Math.max(1, ceilSeconds(result.retryAfterMs));
}

/** HTTP status for a rejected result: 429 for quota, 503 when no decision could be made. */
export function rateLimitStatus(result: RateLimitResult): 429 | 503 {
  return result.rejection === 'limiter-unavailable' ? 503 : 429;
}

/** GraphQL-shaped body for a rejected result (send with `rateLimitStatus`). */
export function rateLimitedBody(result: RateLimitResult): RateLimitedBody {
  const retryAfter = retryAfterSeconds(result);
  const units = result.policy.unit === 'cost' ? ' cost units' : '';
  const quota = `the ${result.tier} tier allows ${result.policy.limit}${units} per ${formatWindow(result.policy.windowMs)}`;
  let code: RateLimitErrorCode = ErrorCode.RATE_LIMITED;
  let message: string;
  switch (result.rejection) {
    case 'limiter-unavailable':
      code = ErrorCode.RATE_LIMITER_UNAVAILABLE;
      message = `Rate limiting is temporarily unavailable: retry after ${retryAfter} s`;
      break;
    case 'cost-exceeds-limit':
      message = `Rate limit exceeded: this operation costs more than the whole quota (${quota}); reduce its cost`;
      break;
    case 'quota':
    case undefined:
      message = `Rate limit exceeded: ${quota}; retry after ${retryAfter} s`;
      break;
  }
  return refusalBody(code, message, { retryAfter, tier: result.tier });
}

export interface RateLimitRequestInput extends RateLimitSubjectInput {
  /** Units this request costs. Default 1. */
  readonly cost?: number;
}

export type RateLimitOutcome =
  | { readonly allowed: true; readonly headers: RateLimitHeaders; readonly result: RateLimitResult }
  | {
      readonly allowed: false;
      readonly statusCode: 429 | 503;
      readonly headers: RateLimitHeaders;
      readonly body: RateLimitedBody;
      readonly result: RateLimitResult;
    };

/**
 * The whole HTTP step from plain request facts, for a Fastify preHandler:
 * ```ts
 * const out = await rateLimitRequest(limiter, { principal, apiKey, remoteAddress: req.socket.remoteAddress,
 *   xForwardedFor: req.headers['x-forwarded-for'], trustedHops });
 * reply.headers(out.headers);
 * if (!out.allowed) return reply.code(out.statusCode).send(out.body);
 * ```
 * Never rejects because of Redis; rejects only for a programming error (negative cost).
 */
export async function rateLimitRequest(
  limiter: Pick<RateLimiter, 'check'>,
  input: RateLimitRequestInput,
): Promise<RateLimitOutcome> {
  const result = await limiter.check(resolveRateLimitSubject(input), input.cost ?? 1);
  const headers = rateLimitHeaders(result, result.policy);
  if (result.allowed) return { allowed: true, headers, result };
  return { allowed: false, statusCode: rateLimitStatus(result), headers, body: rateLimitedBody(result), result };
}

/** Header telling the client its request waited in the queue for quota, and for how long (ms). */
export const QUEUED_HEADER = 'x-portico-queued-ms';

/**
 * The RateLimit fields of two decisions on one response (request count, then cost), as the
 * draft's lists: `RateLimit-Policy: "free";q=500;w=86400, "free-cost";q=200000;w=86400;qu="cost"`.
 * Retry-After is the later of the two.
 */
export function mergeRateLimitHeaders(first: RateLimitHeaders, second: RateLimitHeaders): RateLimitHeaders {
  const out: RateLimitHeaders = { ...first };
  for (const [name, value] of Object.entries(second)) {
    const prior = out[name];
    if (prior === undefined) out[name] = value;
    else if (name === 'Retry-After') out[name] = String(Math.max(Number(prior), Number(value)));
    else out[name] = `${prior}, ${value}`;
  }
  return out;
}

function ceilSeconds(ms: number): number {
  return Math.ceil(Math.max(0, ms) / 1_000);
}

/** RFC 8941 sf-string: quoted, with `\` and `"` escaped (tier names never need it; be safe). */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, '?')}"`;
}

function formatWindow(ms: number): string {
  const s = ceilSeconds(ms);
  if (s % 86_400 === 0) return s === 86_400 ? 'day' : `${s / 86_400} days`;
  if (s % 3_600 === 0) return s === 3_600 ? 'hour' : `${s / 3_600} h`;
  return `${s} s`;
}
