/**
 * Identity forwarding: what subgraphs learn about the caller. Pure.
 *
 * Subgraphs trust these headers only because the gateway builds them from a verified token; a
 * client can never supply them, since the data source sends only the headers built here (plus
 * request id and trace context), never the client's. See docs/security.md, "Trust model".
 */
import { claimInvalid } from './errors.ts';
import type { Principal } from './principal.ts';

/** Header names carrying the verified identity to subgraphs (lower case). */
export interface IdentityHeaderNames {
  /** `sub` of the token. Default `x-portico-subject` (the review mock reads the author from it). */
  readonly subject: string;
  /** Scopes, space-separated. Default `x-portico-scopes`. */
  readonly scopes: string;
  /** Rate-limit tier, when the token has one. Default `x-portico-tier`. */
  readonly tier: string;
}

export const DEFAULT_IDENTITY_HEADERS: IdentityHeaderNames = Object.freeze({
  subject: 'x-portico-subject',
  scopes: 'x-portico-scopes',
  tier: 'x-portico-tier',
});

/** An HTTP header name (RFC 9110 token), lower case as Node and fetch normalise them. */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * Headers the gateway sets itself or that carry meaning on the hop: an identity header with one of
 * these names would be overwritten, or would change how the subgraph reads the request.
 */
const RESERVED_HEADER_NAMES: ReadonlySet<string> = new Set([
  'authorization', 'content-type', 'content-length', 'accept', 'host', 'connection', 'cookie',
  'transfer-encoding', 'x-request-id', 'traceparent', 'tracestate',
]);

/**
 * Checks the three names of `PORTICO_IDENTITY_HEADERS`. Returns a problem text or `undefined`.
 */
export function checkIdentityHeaderNames(names: readonly string[]): string | undefined {
  if (names.length !== 3) return `expected three header names (subject,scopes,tier), got ${names.length}`;
  const bad = names.filter((n) => !HEADER_NAME.test(n));
  if (bad.length > 0) return `not lower-case header names: ${bad.join(', ')}`;
  const reserved = names.filter((n) => RESERVED_HEADER_NAMES.has(n));
  if (reserved.length > 0) return `reserved header names cannot carry identity: ${reserved.join(', ')}`;
  if (new Set(names).size !== 3) return 'the three header names must differ';
  return undefined;
}

/**
 * Visible ASCII without spaces: what a header value can carry unchanged. A subject or tier outside
 * it would need an encoding subgraphs would have to undo, and two spellings of one identity are a
 * way to impersonate; refusing such tokens is simpler and safe (IdP subjects are opaque ASCII ids).
 */
const FORWARDABLE = /^[\x21-\x7e]+$/;

/**
 * Refuses a principal whose identity cannot be forwarded as headers byte for byte.
 *
 * @throws AuthError `claim_invalid` naming `sub`, the scope claim or the tier claim
 */
export function assertForwardable(principal: Principal, tierClaim: string): void {
  if (principal.kind !== 'user') return;
  if (!FORWARDABLE.test(principal.subject)) throw claimInvalid('sub');
  if (!principal.scopes.every((s) => FORWARDABLE.test(s))) throw claimInvalid('scope');
  if (principal.tier !== undefined && !FORWARDABLE.test(principal.tier)) throw claimInvalid(tierClaim);
}

/**
 * The identity headers of a subgraph call: none for anonymous callers (a subgraph then sees no
 * subject at all), subject + scopes (+ tier) for users.
 */
export function identityHeaders(principal: Principal, names: IdentityHeaderNames): Record<string, string> {
  if (principal.kind !== 'user') return {};
  const headers: Record<string, string> = {
    [names.subject]: principal.subject,
    [names.scopes]: principal.scopes.join(' '),
  };
  if (principal.tier !== undefined) headers[names.tier] = principal.tier;
  return headers;
}
