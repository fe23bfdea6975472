/**
 * DEVELOPMENT identity provider. Serves the public half of the committed DEV-ONLY key pair in
 * `dev-keys/` and signs development tokens with its private half. That private key is public
 * knowledge: a gateway that trusts this IdP's keys trusts anyone. Never use it in production.
 *
 * `tsx subgraphs-mock/idp.ts` listens on 127.0.0.1:4005; `startDevIdp()` for tests (port 0).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { importJWK, SignJWT } from 'jose';
import type { JSONWebKeySet, JWK } from 'jose';

/**
 * `iss` of every dev token, always: a reserved issuer by which a production gateway recognises and
 * refuses dev tokens wherever this IdP runs (src/auth/devKeys.ts holds the same value). Configure
 * a development gateway with PORTICO_JWT_ISSUER=portico-dev-idp.
 */
export const DEV_ISSUER = 'portico-dev-idp';
/**
 * Every dev key's `kid` starts with this reserved prefix (checked when a key is read), so a
 * production gateway recognises dev keys and tokens by what they are, not by where they are served.
 */
export const DEV_KEY_ID_PREFIX = 'portico-dev-';
/** `aud` of every dev token; configure the gateway with PORTICO_JWT_AUDIENCE=portico. */
export const DEV_AUDIENCE = 'portico';
/** Port of the dev IdP in the local topology (see ARCHITECTURE.md). */
export const DEV_IDP_DEFAULT_PORT = 4005;
/** Only loopback by default: this IdP signs for anyone who asks. */
export const DEV_IDP_DEFAULT_HOST = '127.0.0.1';
/** Path of the JWKS document. */
export const DEV_JWKS_PATH = '/.well-known/jwks.json';
/** Lifetime of a dev token when none is given, seconds: one working hour. */
export const DEFAULT_DEV_TOKEN_TTL_S = 3_600;

/** Folder of the committed DEV-ONLY key pair. */
export const DEV_KEYS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'dev-keys');
/** Public JWKS of the dev key, for PORTICO_JWKS_FILE in offline development. */
export const DEV_JWKS_FILE = resolve(DEV_KEYS_DIR, 'dev-jwks.json');
const DEV_PRIVATE_JWK_FILE = resolve(DEV_KEYS_DIR, 'dev-private.jwk.json');

/**
 * Client caching of the JWKS, seconds. Short: in development keys may be swapped by hand, and the
 * gateway refetches on unknown kids anyway.
 */
const JWKS_MAX_AGE_S = 60;

/** Throws unless `kid` carries the reserved prefix: a dev key must never pass for a real one. */
function assertDevKid(kid: unknown, file: string): asserts kid is string {
  if (typeof kid !== 'string' || !kid.startsWith(DEV_KEY_ID_PREFIX)) {
    throw new Error(`${file}: every development key's kid must start with "${DEV_KEY_ID_PREFIX}", got ${JSON.stringify(kid)}`);
  }
}

function readPrivateJwk(): JWK & { kid: string; alg: string } {
  const jwk = JSON.parse(readFileSync(DEV_PRIVATE_JWK_FILE, 'utf8')) as JWK;
  if (typeof jwk.kid !== 'string' || typeof jwk.alg !== 'string') {
    throw new Error(`${DEV_PRIVATE_JWK_FILE} must carry "kid" and "alg"`);
  }
  assertDevKid(jwk.kid, DEV_PRIVATE_JWK_FILE);
  return jwk as JWK & { kid: string; alg: string };
}

/** The public JWKS served by the dev IdP (read from `dev-keys/dev-jwks.json`); every kid is reserved. */
export function devPublicJwks(): JSONWebKeySet {
  const jwks = JSON.parse(readFileSync(DEV_JWKS_FILE, 'utf8')) as JSONWebKeySet;
  for (const key of jwks.keys) assertDevKid(key.kid, DEV_JWKS_FILE);
  return jwks;
}

/** Claims of a dev token. */
export interface DevTokenClaims {
  /** `sub`: the user the token acts for. */
  sub: string;
  /** Scopes, written space-separated into `scope`. */
  scopes?: readonly string[];
  /** Rate-limit tier, written into `tier` when given. */
  tier?: string;
  /** Lifetime in seconds. Default {@link DEFAULT_DEV_TOKEN_TTL_S}. */
  ttlS?: number;
}

/**
 * Signs a DEV-ONLY token: kid (reserved prefix), iss (always {@link DEV_ISSUER}), aud, iat, exp,
 * sub, scope, tier. Neither the issuer nor the kid can be chosen by the caller.
 */
export async function signDevToken(claims: DevTokenClaims): Promise<string> {
  const jwk = readPrivateJwk();
  const key = await importJWK(jwk, jwk.alg);
  const ttlS = claims.ttlS ?? DEFAULT_DEV_TOKEN_TTL_S;
  const payload: Record<string, unknown> = { scope: (claims.scopes ?? []).join(' ') };
  if (claims.tier !== undefined) payload.tier = claims.tier;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: jwk.alg, kid: jwk.kid, typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(`${ttlS}s`)
    .sign(key);
}

export interface DevIdpOptions {
  /** Listen port; 0 picks a free one. Default {@link DEV_IDP_DEFAULT_PORT}. */
  port?: number;
  /** Listen address. Default {@link DEV_IDP_DEFAULT_HOST}. */
  host?: string;
}

export interface DevIdp {
  /** Base URL, e.g. `http://127.0.0.1:4005`. */
  readonly url: string;
  /** JWKS URL for PORTICO_JWKS_URL. */
  readonly jwksUrl: string;
  readonly port: number;
  /** Closes the listener and its open connections. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the dev IdP. Resolves once it is listening. */
export async function startDevIdp(opts: DevIdpOptions = {}): Promise<DevIdp> {
  const host = opts.host ?? DEV_IDP_DEFAULT_HOST;
  const jwksBody = JSON.stringify(devPublicJwks());
  let discoveryBody = '';

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://idp.invalid').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === DEV_JWKS_PATH) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': `max-age=${JWKS_MAX_AGE_S}` }).end(jwksBody);
    } else if (path === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(discoveryBody);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEV_IDP_DEFAULT_PORT, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const jwksUrl = `${url}${DEV_JWKS_PATH}`;
  // Discovery names the issuer the tokens carry, not the URL, so tokens stay valid whatever port
  // the IdP was started on.
  discoveryBody = JSON.stringify({ issuer: DEV_ISSUER, jwks_uri: jwksUrl, id_token_signing_alg_values_supported: ['ES256'] });

  let stopping: Promise<void> | undefined;
  return {
    url,
    jwksUrl,
    port,
    stop() {
      stopping ??= new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        // Keep-alive clients (undici) would otherwise hold close() open.
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const idp = await startDevIdp();
  process.stderr.write(`DEV-ONLY identity provider on ${idp.url} (JWKS ${idp.jwksUrl}); never trust its keys in production\n`);
  const shutdown = (): void => void idp.stop();
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
