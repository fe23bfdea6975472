/**
 * The one network edge of authentication: fetching the IdP's JWKS.
 *
 * jose's remote key set does the caching, the refetch on an unknown `kid` and its cooldown. We add
 * what it lacks for a gateway that must keep serving while the IdP is down:
 * - stale-if-error: when a fetch fails, keys come from the last good JWKS (bounded by maxStaleMs);
 * - failure backoff: after a failed fetch, no new fetch for one cooldown, so an outage (or a flood
 *   of random `kid`s during one) costs the IdP one request per cooldown and callers no waiting;
 * - observability: every real fetch reports success/failure, every fallback reports stale.
 * All of it sits in the fetch implementation handed to jose, so jose's own logic is untouched.
 */
import { createLocalJWKSet, createRemoteJWKSet, customFetch } from 'jose';
import type { FetchImplementation, JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { devKeysIn } from './devKeys.ts';
import { AuthError } from './errors.ts';
import { readBodyCapped } from '../runtime/body.ts';
import { extend } from '../runtime/objects.ts';

/** Outcome reported to `onJwksFetch`: a fetch succeeded, a fetch failed, or last-good keys were used. */
export type JwksFetchOutcome = 'success' | 'failure' | 'stale';

/**
 * Upper bound on a JWKS response, in bytes. A JWKS holds a handful of ~1 KB keys; 512 KiB bounds
 * memory if the endpoint misbehaves.
 */
export const MAX_JWKS_RESPONSE_BYTES = 512 * 1024;

/** A resolver jose calls with a token's header, plus a way to stop its I/O. */
export interface KeySource {
  readonly getKey: JWTVerifyGetKey;
  /**
   * Remote sources refusing development keys only: fetches the key set now and resolves with the
   * development keys it held (by kid; empty when none), or `undefined` when it could not be fetched.
   */
  readonly inspectDevKeys?: () => Promise<readonly string[] | undefined>;
  close(): void;
}

export interface RemoteKeySourceOptions {
  /** JWKS URL (already checked: https, or http on loopback). */
  readonly url: URL;
  /** Fetch timeout, ms. */
  readonly timeoutMs: number;
  /** Minimum ms between fetches caused by unknown `kid`s, and between retries after a failure. */
  readonly cooldownMs: number;
  /** Age in ms after which keys are refetched even when every `kid` is known. */
  readonly cacheMaxAgeMs: number;
  /** How long in ms the last good JWKS keeps verifying while fetches fail. */
  readonly maxStaleMs: number;
  /**
   * A key set holding a development key (see devKeys.ts) is a failed fetch: never used, logged as
   * an error, the last good keys kept. Default false.
   */
  readonly refuseDevKeys?: boolean;
}

export interface RemoteKeySourceDeps {
  readonly logger: Logger;
  readonly onJwksFetch?: ((outcome: JwksFetchOutcome) => void) | undefined;
}

/** A failed (or skipped) fetch; lets the key resolver tell "could not refresh" from "no such key". */
class JwksFetchError extends Error {
  override readonly name = 'JwksFetchError';
}

/** A key set refused because it holds development keys; `kids` names them. */
class DevKeysServedError extends Error {
  override readonly name = 'DevKeysServedError';
  constructor(readonly kids: readonly string[]) {
    super(`JWKS holds development keys: ${kids.join(', ')}`);
  }
}

/** The key set's text; one larger than `maxBytes` is refused as it streams. */
const readJwksBody = (response: Response, maxBytes: number) => readBodyCapped(response, maxBytes, () => new Error(`JWKS response larger than ${maxBytes} bytes`));

/** Remote JWKS with stale-if-error and failure backoff; see the module comment. */
export function createRemoteKeySource(options: RemoteKeySourceOptions, deps: RemoteKeySourceDeps): KeySource {
  const { url, cooldownMs, maxStaleMs } = options;
  const logger = deps.logger.child({ component: 'jwks' });
  const stopped = new AbortController();
  let lastGood: { readonly getKey: ReturnType<typeof createLocalJWKSet>; readonly fetchedAt: number } | undefined;
  let lastFailureAt = -Infinity;
  let servingStale = false;

  const report = (outcome: JwksFetchOutcome): void => {
    try {
      deps.onJwksFetch?.(outcome);
    } catch (err) {
      // A metrics hook must not decide whether a token is valid.
      logger.error({ err }, 'onJwksFetch hook threw');
    }
  };

  const fetchJwks: FetchImplementation = async (href, init) => {
    if (stopped.signal.aborted) throw new JwksFetchError('key source closed');
    if (Date.now() < lastFailureAt + cooldownMs) throw new JwksFetchError('JWKS fetch backing off after a failure');
    try {
      const response = await fetch(href, extend(init, { signal: AbortSignal.any([init.signal, stopped.signal]) }));
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new Error(`JWKS endpoint answered HTTP ${response.status}`);
      }
      const text = await readJwksBody(response, MAX_JWKS_RESPONSE_BYTES);
      // Validate here (JSON + JWKS shape) so a bad document counts as a failed fetch and never
      // replaces the last good key set.
      const jwks = JSON.parse(text) as Parameters<typeof createLocalJWKSet>[0];
      const local = createLocalJWKSet(jwks);
      // A whole key set is refused, not just its development keys: one in a production JWKS is
      // an incident to look at, and the last good keys keep verifying meanwhile.
      const dev = options.refuseDevKeys === true ? devKeysIn(jwks) : [];
      if (dev.length > 0) throw new DevKeysServedError(dev);
      lastGood = { getKey: local, fetchedAt: Date.now() };
      lastFailureAt = -Infinity;
      if (servingStale) {
        servingStale = false;
        logger.info({ url: url.href }, 'JWKS fetch recovered; verifying with fresh keys again');
      }
      report('success');
      return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
    } catch (cause) {
      lastFailureAt = Date.now();
      report('failure');
      if (cause instanceof DevKeysServedError) {
        logger.error({ url: url.href, kids: cause.kids, retryInMs: cooldownMs }, 'JWKS serves development keys; key set refused (production never trusts them)');
      } else {
        logger.warn({ err: cause, url: url.href, retryInMs: cooldownMs }, 'JWKS fetch failed');
      }
      throw new JwksFetchError('JWKS fetch failed', { cause });
    }
  };

  const remote = createRemoteJWKSet(url, {
    timeoutDuration: options.timeoutMs,
    cooldownDuration: cooldownMs,
    cacheMaxAge: options.cacheMaxAgeMs,
    [customFetch]: fetchJwks,
  });

  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      if (!(err instanceof JwksFetchError)) throw err;
      const stale = lastGood;
      if (stale === undefined || Date.now() - stale.fetchedAt > maxStaleMs) {
        throw new AuthError('jwks_unavailable', { cause: err });
      }
      if (!servingStale) {
        servingStale = true;
        logger.warn({ url: url.href, keysFetchedAt: new Date(stale.fetchedAt).toISOString() }, 'JWKS unavailable; verifying with last good keys');
      }
      report('stale');
      return stale.getKey(header, token);
    }
  };

  return {
    getKey,
    ...(options.refuseDevKeys === true
      ? {
          inspectDevKeys: async () => {
            try {
              await remote.reload();
              return [];
            } catch (err) {
              const cause = err instanceof JwksFetchError ? err.cause : undefined;
              return cause instanceof DevKeysServedError ? cause.kids : undefined;
            }
          },
        }
      : {}),
    close() {
      // Aborts an in-flight fetch so shutdown is not held by a hanging IdP. Idempotent.
      stopped.abort();
    },
  };
}
