import type { FastifyReply, FastifyRequest } from 'fastify';
import { isOriginAllowed } from './origins.ts';

/**
 * CORS for browser clients: which web origins may read Portico's answers. ~80 lines instead of a
 * dependency, because the policy is small and the rules below are the whole of it:
 * - an origin is granted only when it matches the configured list; a disallowed origin gets no
 *   `Access-Control-Allow-Origin`, so the browser withholds the answer from the page;
 * - credentials (cookies) are off unless configured, and never combined with `*`;
 * - preflights are answered here (204), before authentication, so they never cost a 401.
 * CORS is a browser read barrier, not access control: tokens and the CSRF check protect the API.
 */

/**
 * How long a browser may reuse a preflight answer, s. 10 min: fewer OPTIONS round trips, yet a
 * changed origin list is honoured within minutes (Chrome caps this at 2 h anyway).
 */
export const DEFAULT_CORS_MAX_AGE_S = 600;

/** Methods GraphQL over HTTP needs: GET (queries, persisted queries) and POST. */
const ALLOWED_METHODS = 'GET, POST';

/** Response headers a page may read besides the CORS-safelisted ones. */
const EXPOSED_HEADERS = 'WWW-Authenticate, Retry-After, RateLimit, RateLimit-Policy';

/** `Access-Control-Request-Headers` is echoed only when it is a plain list of header names. */
const HEADER_NAME_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;
/** Longest `Access-Control-Request-Headers` echoed, chars; a browser sends a few dozen. */
const MAX_REQUEST_HEADERS_CHARS = 1_024;

export interface CorsOptions {
  /** Allowed origins (see checkCorsOrigin in ./origins.ts); empty: no browser origin is granted. */
  readonly origins: readonly string[];
  /** Send `Access-Control-Allow-Credentials: true` (cookies, client certificates). Default off. */
  readonly credentials: boolean;
  /** Preflight cache lifetime, s. Default {@link DEFAULT_CORS_MAX_AGE_S}. */
  readonly maxAgeS?: number;
}

/** The CORS `onRequest` hook: grants allowed origins, answers preflights. */
export function createCorsHook(options: CorsOptions) {
  const anyOrigin = options.origins.includes('*') && !options.credentials;
  const maxAge = String(options.maxAgeS ?? DEFAULT_CORS_MAX_AGE_S);
  return async function cors(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const origin = req.headers.origin;
    // Answers differ by Origin: shared caches must key on it.
    if (options.origins.length > 0 && !anyOrigin) reply.header('vary', 'Origin');
    const allowed = origin !== undefined && isOriginAllowed(origin, options.origins);
    if (allowed) {
      reply.header('access-control-allow-origin', anyOrigin ? '*' : origin);
      if (options.credentials) reply.header('access-control-allow-credentials', 'true');
      reply.header('access-control-expose-headers', EXPOSED_HEADERS);
    }
    const requestMethod = req.headers['access-control-request-method'];
    if (req.method !== 'OPTIONS' || origin === undefined || requestMethod === undefined) return undefined;
    // A preflight. Disallowed origins get the same 204 without grants: the browser blocks the call.
    if (allowed) {
      reply.header('access-control-allow-methods', ALLOWED_METHODS);
      const requested = req.headers['access-control-request-headers'];
      if (requested !== undefined && requested.length <= MAX_REQUEST_HEADERS_CHARS && HEADER_NAME_LIST.test(requested)) {
        // Any header an allowed page asks for: identity headers from clients are dropped anyway.
        reply.header('access-control-allow-headers', requested);
      }
      reply.header('access-control-max-age', maxAge);
    }
    // Returning the reply tells Fastify the request is answered: no route, no 404.
    return reply.code(204).send();
  };
}
