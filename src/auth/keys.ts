/**
 * Offline key sources, read once at start-up: a local JWKS file, a PEM public key (or X.509
 * certificate), or an explicitly configured HMAC secret.
 */
import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { DEV_KEYS_REFUSED, devKeysIn, isDevPublicKey } from './devKeys.ts';
import { AuthError } from './errors.ts';
import type { KeySource } from './jwks.ts';
import { TokenVerifierConfigError } from './options.ts';

const NO_IO = (): void => {};

/** Algorithms a public key can verify, from its type and curve. */
function algorithmsFor(key: KeyObject): readonly string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec':
      switch (key.asymmetricKeyDetails?.namedCurve) {
        case 'prime256v1':
          return ['ES256'];
        case 'secp384r1':
          return ['ES384'];
        case 'secp521r1':
          return ['ES512'];
        default:
          return [];
      }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return [];
  }
}

export interface FileKeySourceOptions {
  /** Refuse a file holding a development key (see devKeys.ts). Default false. */
  readonly refuseDevKeys?: boolean;
}

/**
 * Key source from a file: a PEM public key / certificate when it starts with `-----BEGIN`,
 * otherwise a JWKS JSON document.
 *
 * @throws TokenVerifierConfigError when the file cannot be read or parsed, holds a key that
 *   none of `algorithms` can use, or (with `refuseDevKeys`) holds a development key
 */
export function createFileKeySource(path: string, algorithms: readonly string[], options: FileKeySourceOptions = {}): KeySource {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TokenVerifierConfigError([`keyFile ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }

  if (text.trimStart().startsWith('-----BEGIN')) {
    let key: KeyObject;
    try {
      key = createPublicKey(text);
    } catch {
      throw new TokenVerifierConfigError([`keyFile ${path} is not a PEM public key or certificate`]);
    }
    if (options.refuseDevKeys === true && isDevPublicKey(key)) {
      throw new TokenVerifierConfigError([`keyFile ${path} holds the development key: ${DEV_KEYS_REFUSED}`]);
    }
    const usable = new Set(algorithmsFor(key).filter((alg) => algorithms.includes(alg)));
    if (usable.size === 0) {
      throw new TokenVerifierConfigError([`keyFile ${path} holds a ${key.asymmetricKeyType ?? 'unknown'} key that none of the algorithms ${algorithms.join(', ')} can use`]);
    }
    return {
      // Checked here rather than left to jose, which throws a TypeError (a 500) on a key/alg
      // mismatch; a token naming another allowed alg is simply one we have no key for.
      getKey: async (header) => {
        if (header.alg === undefined || !usable.has(header.alg)) throw new AuthError('unknown_key');
        return key;
      },
      close: NO_IO,
    };
  }

  let jwks: JSONWebKeySet;
  let getKey: KeySource['getKey'];
  try {
    jwks = JSON.parse(text) as JSONWebKeySet;
    getKey = createLocalJWKSet(jwks);
  } catch {
    throw new TokenVerifierConfigError([`keyFile ${path} is neither a PEM key nor a JWKS document ({"keys": [...]})`]);
  }
  // Found by kid or by the key itself, wherever the file was copied to and whatever it is named.
  const dev = options.refuseDevKeys === true ? devKeysIn(jwks) : [];
  if (dev.length > 0) throw new TokenVerifierConfigError([`keyFile ${path} holds development keys (${dev.join(', ')}): ${DEV_KEYS_REFUSED}`]);
  return { getKey, close: NO_IO };
}

/** Key source for an HMAC shared secret (algorithms already restricted to HS* by options). */
export function createSecretKeySource(secret: Uint8Array): KeySource {
  return { getKey: async () => secret, close: NO_IO };
}
