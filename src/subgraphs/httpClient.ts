import { Agent, type Dispatcher } from 'undici';
import type { CallSignal } from '../request/signal.ts';
import type { RawResponse } from './types.ts';

/** Idle keep-alive connections to a subgraph live 30 s: well under a typical 60 s server idle timeout. */
export const DEFAULT_KEEP_ALIVE_MS = 30_000;
/** At most 256 connections per subgraph origin, matching the bulkhead's default in-flight cap. */
export const DEFAULT_CONNECTIONS_PER_ORIGIN = 256;

/** How one exchange may end early. */
export interface CallLimits {
  /** The exchange is aborted after this many ms, failing with `onTimeout()`. */
  readonly timeoutMs: number;
  readonly onTimeout: () => Error;
  /** Aborted when this signal fires (the client went away), failing with `onAbort()`. */
  readonly signal?: CallSignal | undefined;
  readonly onAbort?: () => Error;
  /** An answer larger than this (declared or received) is cut off, failing with `onTooLarge()`, bytes. */
  readonly maxBytes?: number | undefined;
  readonly onTooLarge?: () => Error;
}

export interface SubgraphHttpClient {
  /** POSTs `body`; resolves with status and text, rejects on connection errors, timeout or abort. */
  post(url: string, headers: Record<string, string>, body: string, limits: CallLimits): Promise<RawResponse>;
  close(): Promise<void>;
}

const BASE_HEADERS = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };

/**
 * The one HTTP client for subgraph calls: undici's dispatcher over a keep-alive pool, with a
 * handler of our own. `fetch` builds WHATWG streams and Request/Response objects per call and
 * undici's `request()` a Readable stream, an AsyncResource and parsed header objects; a
 * gateway needs only the status and the body text, four times per product page. The timeout
 * and the client's abort are wired here too, so a call costs one timer and no AbortController.
 */
export function createSubgraphHttpClient(options: { keepAliveMs?: number; connections?: number } = {}): SubgraphHttpClient {
  const agent = new Agent({
    keepAliveTimeout: options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS,
    connections: options.connections ?? DEFAULT_CONNECTIONS_PER_ORIGIN,
    pipelining: 1,
  });
  const parsed = new Map<string, { origin: string; path: string }>();
  return {
    post(url, headers, body, limits) {
      let target = parsed.get(url);
      if (!target) {
        const u = new URL(url);
        target = { origin: u.origin, path: `${u.pathname}${u.search}` };
        parsed.set(url, target);
      }
      const { origin, path } = target;
      return new Promise<RawResponse>((resolve, reject) => {
        const { signal } = limits;
        if (signal?.aborted) {
          reject(limits.onAbort?.() ?? signal.reason);
          return;
        }
        let abortCall: ((reason: Error) => void) | undefined;
        /** Set when we ended the call before undici did (timeout, client gone). */
        let endedBy: Error | undefined;
        let settled = false;
        const finish = () => {
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        };
        const end = (reason: Error) => {
          if (settled) return;
          endedBy = reason;
          finish();
          // Settle now: a call still waiting for a connection (a black-holed subgraph) has no
          // abort handle until onConnect, which then aborts it at once.
          reject(reason);
          abortCall?.(reason);
        };
        // The verdict waits for one setImmediate: timers run before I/O in each event-loop turn,
        // so after a stall of our own (a CPU-heavy query plan, GC) an answer already sitting in
        // the socket would otherwise be declared a timeout. The immediate runs right after the
        // I/O poll, so such answers win (as the rate limiter's Redis deadline does).
        const timer = setTimeout(() => setImmediate(() => end(limits.onTimeout())), limits.timeoutMs);
        const onAbort = () => end(limits.onAbort?.() ?? (signal?.reason as Error));
        signal?.addEventListener('abort', onAbort, { once: true });
        let status = 0;
        let cacheHeaders: { cacheControl?: string; vary?: string } = {};
        const chunks: Buffer[] = [];
        // Bounded memory whatever a subgraph sends: a 50 MB answer or a body that never ends is
        // cut off at the limit (or by the timeout), not buffered whole.
        const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
        let received = 0;
        const tooLarge = () => end(limits.onTooLarge?.() ?? new Error(`response larger than ${maxBytes} bytes`));
        const handler: Dispatcher.DispatchHandlers = {
          onConnect(abort) {
            abortCall = abort as (reason: Error) => void;
            if (endedBy) abort(endedBy);
          },
          onHeaders(statusCode, rawHeaders) {
            status = statusCode;
            cacheHeaders = cacheHeadersOf(rawHeaders);
            if (maxBytes !== Number.POSITIVE_INFINITY && declaredLength(rawHeaders) > maxBytes) {
              tooLarge();
              return false;
            }
            return true;
          },
          onData(chunk) {
            received += chunk.length;
            if (received > maxBytes) {
              tooLarge();
              return false;
            }
            chunks.push(chunk);
            return true;
          },
          onComplete() {
            if (settled) return;
            finish();
            const text = chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
            resolve({ status, text, ...cacheHeaders });
          },
          onError(err) {
            if (settled) return;
            finish();
            reject(err);
          },
        };
        try {
          agent.dispatch({ origin, path, method: 'POST', headers: Object.assign({}, BASE_HEADERS, headers), body }, handler);
        } catch (err) {
          finish();
          reject(err as Error);
        }
      });
    },
    close: () => agent.close(),
  };
}

/** The `content-length` among undici's raw header pairs, or -1 when absent or unreadable. */
function declaredLength(rawHeaders: Buffer[] | string[] | null | undefined): number {
  if (!rawHeaders) return -1;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toString();
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      const n = Number(rawHeaders[i + 1]!.toString());
      return Number.isFinite(n) ? n : -1;
    }
  }
  return -1;
}

/** `Cache-Control` and `Vary` of an answer, for the cache (`src/cache/`); absent when not sent. */
function cacheHeadersOf(rawHeaders: Buffer[] | string[] | null | undefined): { cacheControl?: string; vary?: string } {
  const out: { cacheControl?: string; vary?: string } = {};
  if (!rawHeaders) return out;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toString();
    if (name.length === 13 && name.toLowerCase() === 'cache-control') out.cacheControl = rawHeaders[i + 1]!.toString();
    else if (name.length === 4 && name.toLowerCase() === 'vary') out.vary = rawHeaders[i + 1]!.toString();
  }
  return out;
}
