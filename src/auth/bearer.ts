/**
 * Pure checks on the raw `Authorization` header and the token's protected header, run before any
 * key lookup or signature work so that hostile input costs as little as possible.
 */
import { decodeProtectedHeader } from 'jose';
import type { ProtectedHeaderParameters } from 'jose';
import { AuthError } from './errors.ts';

/**
 * `Bearer` + spaces + token68 (RFC 6750 §2.1); scheme case-insensitive (RFC 9110 §11.1). The
 * character classes are disjoint, so matching is linear in the header length.
 */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Room for `Bearer` and surrounding spaces when bounding the whole header before matching. */
const SCHEME_OVERHEAD_CHARS = 64;

/**
 * Header parameters that point at keys: a verifier that followed them would let the token choose
 * the key it is checked with (jku/x5u: SSRF + attacker key; jwk/x5c: attacker key, CVE-2018-0114).
 * jose never follows them, and we go one step further and refuse them: no legitimate token from
 * our IdP carries them, so their presence is a probe worth counting.
 */
export const FORBIDDEN_HEADER_PARAMETERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

/**
 * Extracts the token from `Bearer <token>`.
 *
 * @throws AuthError `too_large` above `maxTokenBytes` (checked before any parsing), `malformed`
 *   when the header is not a single bearer token
 */
export function extractBearerToken(header: string, maxTokenBytes: number): string {
  if (header.length > maxTokenBytes + SCHEME_OVERHEAD_CHARS) throw new AuthError('too_large');
  const match = BEARER.exec(header);
  const token = match?.[1];
  if (token === undefined) {
    throw new AuthError('malformed', { message: 'authorization header must be: Bearer <token>' });
  }
  // Header values are Latin-1 on the wire, so characters are bytes.
  if (token.length > maxTokenBytes) throw new AuthError('too_large');
  return token;
}

/**
 * Decodes and vets the protected header of a compact JWS without verifying anything.
 *
 * @throws AuthError `malformed` (not three segments, JWE, undecodable header, no `alg`),
 *   `alg_not_allowed`, `header_not_allowed`
 */
export function checkProtectedHeader(token: string, allowedAlgorithms: ReadonlySet<string>): ProtectedHeaderParameters {
  const segments = token.split('.').length;
  if (segments === 5) throw new AuthError('malformed', { message: 'encrypted tokens (JWE) are not accepted' });
  if (segments !== 3) throw new AuthError('malformed');
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch (cause) {
    throw new AuthError('malformed', { cause });
  }
  if (typeof header.alg !== 'string' || header.alg === '') throw new AuthError('malformed');
  // `none` is never in the set (options resolution refuses it), so unsigned tokens stop here.
  if (!allowedAlgorithms.has(header.alg)) throw new AuthError('alg_not_allowed');
  for (const parameter of FORBIDDEN_HEADER_PARAMETERS) {
    if (Object.hasOwn(header, parameter)) throw new AuthError('header_not_allowed');
  }
  return header;
}
