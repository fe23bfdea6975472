import { createPublicKey, type KeyObject } from 'node:crypto';
import { compactVerify } from 'jose';

/**
 * Detached signatures of a supergraph: a compact JWS with its payload left out
 * (`<protected header>..<signature>`, RFC 7515 appendix F), published next to the file as
 * `<url>.sig`. The payload is the file's exact bytes. Verified with the configured public key
 * (PEM, SPKI) by jose; `npm run supergraph -- publish --sign <private key>` makes them.
 */

/** Asymmetric algorithms only: a shared secret on every instance would let any of them sign. */
export const SIGNATURE_ALGORITHMS = ['EdDSA', 'ES256', 'ES384', 'PS256', 'RS256'];

export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey(pem);
}

/** Resolves when `signature` signs `sdl` under `key`; rejects with a one-line reason otherwise. */
export async function verifyDetached(sdl: string, signature: string, key: KeyObject): Promise<void> {
  const parts = signature.trim().split('.');
  if (parts.length !== 3 || parts[1] !== '') throw new Error('signature is not a detached compact JWS (<header>..<signature>)');
  const payload = Buffer.from(sdl, 'utf8').toString('base64url');
  try {
    await compactVerify(`${parts[0]}.${payload}.${parts[2]}`, key, { algorithms: SIGNATURE_ALGORITHMS });
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'ERR_JWS_INVALID';
    throw new Error(`signature does not verify with PORTICO_SUPERGRAPH_PUBLIC_KEY_FILE (${code})`);
  }
}
