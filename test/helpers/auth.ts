/**
 * Real parts for the auth tests: an HTTP JWKS server on port 0 that counts requests, key pairs from
 * jose, and token builders (including hostile ones jose would refuse to build).
 */
import { once, EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWK, JWTPayload, JWTHeaderParameters } from 'jose';
import { pino } from 'pino';
import type { Logger } from 'pino';

export const ISSUER = 'https://idp.test';
export const AUDIENCE = 'portico';

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A logger whose lines are kept (parsed) for assertions. */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

export interface TestKey {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function makeKey(alg: 'RS256' | 'ES256' | 'EdDSA' | 'RS384', kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, publicJwk };
}

export function jwksOf(...keys: TestKey[]): JSONWebKeySet {
  return { keys: keys.map((k) => k.publicJwk) };
}

export function nowS(): number {
  return Math.floor(Date.now() / 1000);
}

/** Default claims of a valid token; override or delete (set to undefined) per case. */
export function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'alice',
    iat: nowS(),
    exp: nowS() + 3600,
    scope: 'review:write pricing:internal',
    tier: 'premium',
    ...overrides,
  };
  for (const [k, v] of Object.entries(base)) if (v === undefined) delete base[k];
  return base as JWTPayload;
}

/** Signs with jose; `header` may add or override protected header parameters. */
export async function sign(key: TestKey, payload: JWTPayload = claims(), header: Partial<JWTHeaderParameters> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
}

export function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

export function bearer(token: string): string {
  return `Bearer ${token}`;
}

export type JwksMode = 'ok' | 'error' | 'garbage' | 'huge' | 'hang';

export interface TestServer {
  readonly url: string;
  /** Requests received on any path. */
  requests(): number;
  /** Resolves once at least `n` requests have arrived. */
  waitForRequests(n: number): Promise<void>;
  stop(): Promise<void>;
}

export interface JwksServer extends TestServer {
  readonly jwksUrl: string;
  setJwks(jwks: JSONWebKeySet): void;
  /** ok: serve the JWKS; error: 503; garbage: 200 non-JSON; huge: 200 with 1 MiB; hang: never answer. */
  setMode(mode: JwksMode): void;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  let count = 0;
  const events = new EventEmitter();
  const server = createServer((req, res) => {
    count += 1;
    events.emit('request');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => count,
    async waitForRequests(n) {
      while (count < n) await once(events, 'request');
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}

export async function startJwksServer(initial: JSONWebKeySet): Promise<JwksServer> {
  let jwks = initial;
  let mode: JwksMode = 'ok';
  const base = await listen((_req, res) => {
    switch (mode) {
      case 'ok':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
        return;
      case 'error':
        res.writeHead(503).end('down');
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' }).end('<html>maintenance</html>');
        return;
      case 'huge':
        res.writeHead(200, { 'content-type': 'application/json' }).end(`{"keys":[],"pad":"${'x'.repeat(1024 * 1024)}"}`);
        return;
      case 'hang':
        return;
    }
  });
  return {
    ...base,
    jwksUrl: `${base.url}/.well-known/jwks.json`,
    setJwks: (next) => void (jwks = next),
    setMode: (next) => void (mode = next),
  };
}

/** Any HTTP server that only counts (the jku / x5u target). */
export async function startCountingServer(body: string): Promise<TestServer> {
  return listen((_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(body));
}
