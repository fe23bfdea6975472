/**
 * Development keys and tokens, recognised by what they are rather than where they come from.
 *
 * The development IdP (subgraphs-mock/idp.ts) and `npm run token` sign with a committed private
 * key: whoever trusts its public half trusts anyone. It used to be recognised by address (loopback
 * port 4005), and a production gateway pointed at the same IdP on another port trusted it. Now
 * every development token carries a reserved issuer and a reserved key-id prefix, and the
 * committed key is known by its RFC 7638 thumbprint, so a copy published under another kid or URL
 * is still recognised. A verifier with `refuseDevKeys` (production, unless PORTICO_ALLOW_DEV_KEYS)
 * refuses to start on such keys and refuses every such token. Pure.
 *
 * These constants are duplicated from the mock, which src/ must not import;
 * test/integration/devKeysVerifier.test.ts keeps them equal.
 */
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { JWK, ProtectedHeaderParameters } from 'jose';
import { AuthError } from './errors.ts';

/** `iss` of every development token; reserved: no real IdP may use it. */
export const DEV_ISSUER = 'portico-dev-idp';

/** Prefix of the `kid` of every development key; reserved: no real key may use it. */
export const DEV_KEY_ID_PREFIX = 'portico-dev-';

/** Why development keys are refused, and the one way to allow them; ends every such problem. */
export const DEV_KEYS_REFUSED = 'development keys sign for anyone and are refused in production (PORTICO_ALLOW_DEV_KEYS=true overrides)';

/**
 * RFC 7638 SHA-256 thumbprints of the committed development keys (subgraphs-mock/dev-keys/): the
 * key itself, whatever kid or file it is published under.
 */
export const DEV_KEY_THUMBPRINTS: ReadonlySet<string> = new Set(['ZqJI3mz37SXiTklEISFshAT8KxczsyMTSvRqjzCEb2U']);

/** The members RFC 7638 §3.2 hashes, per key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
};

/** RFC 7638 SHA-256 thumbprint of a public JWK; `undefined` for a key type or shape it does not cover. */
export function jwkThumbprint(jwk: JWK): string | undefined {
  const members = jwk.kty === undefined ? undefined : THUMBPRINT_MEMBERS[jwk.kty];
  if (members === undefined) return undefined;
  const required: Record<string, unknown> = {};
  for (const m of members) {
    const v = (jwk as Record<string, unknown>)[m];
    if (typeof v !== 'string') return undefined;
    required[m] = v;
  }
  return createHash('sha256').update(JSON.stringify(required)).digest('base64url');
}

/** True for a development key: a reserved kid, or the committed key under any kid. */
export function isDevJwk(jwk: JWK): boolean {
  if (typeof jwk.kid === 'string' && jwk.kid.startsWith(DEV_KEY_ID_PREFIX)) return true;
  const thumbprint = jwkThumbprint(jwk);
  return thumbprint !== undefined && DEV_KEY_THUMBPRINTS.has(thumbprint);
}

/** How each development key in a JWKS document is named in messages: its kid, else its thumbprint. */
export function devKeysIn(jwks: { readonly keys?: unknown }): string[] {
  const keys = Array.isArray(jwks.keys) ? (jwks.keys as JWK[]) : [];
  return keys.filter((k) => typeof k === 'object' && k !== null && isDevJwk(k)).map((k) => k.kid ?? `thumbprint ${jwkThumbprint(k)}`);
}

/** True when a public key object (from a PEM file) is a committed development key. */
export function isDevPublicKey(key: KeyObject): boolean {
  try {
    return isDevJwk(key.export({ format: 'jwk' }) as JWK);
  } catch {
    return false;
  }
}

/**
 * Refuses a development token: a reserved kid in its header, or the reserved issuer in its
 * (not yet verified) claims. Runs before the signature check, so it costs a decode at most.
 *
 * @throws AuthError `dev_key`
 */
export function assertNotDevToken(token: string, header: ProtectedHeaderParameters): void {
  if (typeof header.kid === 'string' && header.kid.startsWith(DEV_KEY_ID_PREFIX)) throw new AuthError('dev_key');
  let iss: unknown;
  try {
    iss = decodeJwt(token).iss;
  } catch {
    // An undecodable payload is refused by verification, as malformed.
    return;
  }
  if (iss === DEV_ISSUER) throw new AuthError('dev_key');
}
