/**
 * Where a request may carry its credentials: one `Authorization` header, nowhere else. Pure
 * checks, run before any verification, so no combination of places ever decides which token
 * wins.
 *
 * Node joins repeated `Authorization` headers into one `a, b` value in `req.headers`, and the
 * first token then matched or failed depending on the order they came in: a valid token first
 * and garbage second ran a mutation. The raw header list shows every copy. RFC 6750 also lets a
 * token travel as an `access_token` form-body or URI-query parameter (§2.2, §2.3); Portico reads
 * neither (the query string ends up in proxy and access logs, and bodies are JSON), so a token
 * there is refused rather than silently ignored: ignoring it would serve the caller as someone
 * else (anonymous) than it believes it is.
 */
import { AuthError } from './errors.ts';

/** RFC 6750's name for a token carried as a query or body parameter. */
export const ACCESS_TOKEN_PARAMETER = 'access_token';

/** How many `Authorization` headers a raw header list (`IncomingMessage.rawHeaders`) holds. */
export function authorizationHeaderCount(rawHeaders: readonly string[]): number {
  let count = 0;
  // Names at even positions, values at odd ones.
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name !== undefined && name.length === 13 && name.toLowerCase() === 'authorization') count++;
  }
  return count;
}

/** True when the request target's query string has an `access_token` parameter (any spelling URL decoding yields). */
export function hasAccessTokenInQuery(url: string): boolean {
  const q = url.indexOf('?');
  if (q < 0) return false;
  return new URLSearchParams(url.slice(q + 1)).has(ACCESS_TOKEN_PARAMETER);
}

/** True when a parsed JSON body carries a top-level `access_token`. */
export function hasAccessTokenInBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && Object.hasOwn(body, ACCESS_TOKEN_PARAMETER);
}

/**
 * Checks what the request line and headers say about credentials.
 *
 * @returns an `invalid_request` {@link AuthError} naming the problem, or `undefined`
 */
export function checkHeaderCredentials(rawHeaders: readonly string[], url: string): AuthError | undefined {
  const headers = authorizationHeaderCount(rawHeaders);
  if (headers > 1) {
    return new AuthError('invalid_request', { message: `${headers} Authorization headers: send exactly one` });
  }
  if (hasAccessTokenInQuery(url)) {
    return new AuthError('invalid_request', {
      message:
        headers === 1
          ? 'token sent twice, in the Authorization header and as access_token in the query string: send it once, in the header'
          : 'access_token in the query string is not accepted (it ends up in logs): send Authorization: Bearer <token>',
    });
  }
  return undefined;
}

/**
 * Checks the parsed body, once it has been read.
 *
 * @param hasHeader whether an `Authorization` header came too, for the message
 * @returns an `invalid_request` {@link AuthError}, or `undefined`
 */
export function checkBodyCredentials(body: unknown, hasHeader: boolean): AuthError | undefined {
  if (!hasAccessTokenInBody(body)) return undefined;
  return new AuthError('invalid_request', {
    message: hasHeader
      ? 'token sent twice, in the Authorization header and as access_token in the body: send it once, in the header'
      : 'access_token in the body is not accepted: send Authorization: Bearer <token>',
  });
}
