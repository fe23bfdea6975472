import type { FastifyReply, FastifyRequest } from 'fastify';

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
 * Origins allowed outside production when PORTICO_CORS_ORIGINS is unset: local front ends on any
 * port, and Apollo Studio / embedded Sandbox (they call the graph from the browser).
 */
export const DEFAULT_DEV_CORS_ORIGINS: readonly string[] = Object.freeze([
  'http://localhost:*',
  'http://127.0.0.1:*',
  'http://[::1]:*',
  'https://studio.apollographql.com',
  'https://sandbox.embed.apollographql.com',
]);

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

/** `scheme://host:*`: any port (or none) on that host. */
const PORT_WILDCARD = /^(https?):\/\/([^/:]+|\[[0-9a-fA-F:.]+\]):\*$/;

/**
 * Checks one configured origin: `*`, an exact origin (`https://app.example.com`, no path), or a
 * port wildcard (`http://localhost:*`). Returns a problem text or `undefined`.
 */
export function checkCorsOrigin(entry: string): string | undefined {
  if (entry === '*' || PORT_WILDCARD.test(entry)) return undefined;
  // Subdomain wildcards are not offered: one hijacked subdomain would be granted with the rest.
  if (entry.includes('*')) return `${JSON.stringify(entry)}: a wildcard is allowed only as * or scheme://host:*`;
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return `${JSON.stringify(entry)} is not an origin (expected scheme://host[:port], scheme://host:* or *)`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${JSON.stringify(entry)} must be http or https`;
  // An origin has no path, query or credentials; `https://a.example/` is tolerated as a typing habit.
  if (url.origin !== entry.replace(/\/$/, '')) return `${JSON.stringify(entry)} is not a bare origin (no path, query or upper case)`;
  return undefined;
}

/** True when `origin` (the request's `Origin` header) matches one configured entry. Pure. */
export function isOriginAllowed(origin: string, allowed: readonly string[]): boolean {
  // `null` is what sandboxed iframes and file:// pages send: never a trustworthy caller.
  if (origin === 'null') return false;
  for (const entry of allowed) {
    if (entry === '*') return true;
    const wildcard = PORT_WILDCARD.exec(entry);
    if (wildcard) {
      const prefix = `${wildcard[1]}://${wildcard[2]!.toLowerCase()}`;
      if (origin === prefix || (origin.startsWith(`${prefix}:`) && /^\d{1,5}$/.test(origin.slice(prefix.length + 1)))) return true;
    } else if (origin === entry.replace(/\/$/, '')) {
      return true;
    }
  }
  return false;
}

export interface CorsOptions {
  /** Allowed origins (see {@link checkCorsOrigin}); empty: no browser origin is granted. */
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
