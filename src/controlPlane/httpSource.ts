import type { KeyObject } from 'node:crypto';
import type { Logger } from '../logging/index.ts';
import { readBodyCapped } from '../runtime/body.ts';
import { verifyDetached } from './signature.ts';
import type { FetchOutcome, SupergraphVersion, UrlStatus } from './types.ts';

/**
 * Supergraph over HTTP(S): a registry first, mirrors after it (an object-storage bucket's public
 * or pre-signed URL is plain HTTPS). Polled with `If-None-Match`, so an unchanged file is a 304
 * with no body; jittered so N instances do not poll in step; backed off while every URL fails.
 */

/** Poll interval, ms: a published supergraph reaches every instance within ~this (push is instant). */
export const DEFAULT_POLL_MS = 10_000;
/** ± share of each poll delay randomised. */
export const POLL_JITTER_RATIO = 0.2;
/** Longest delay between polls while every URL fails, ms. */
export const MAX_BACKOFF_MS = 300_000;
/** One fetch (headers and body), ms. */
export const DEFAULT_FETCH_TIMEOUT_MS = 5_000;
/** 8 MiB: the demo supergraph is ~10 KB, large real ones a few MB. Bigger is refused. */
export const DEFAULT_MAX_SUPERGRAPH_BYTES = 8 * 1_048_576;

export interface HttpSourceOptions {
  /** In order of preference: the registry, then its mirrors. */
  readonly urls: readonly string[];
  readonly pollMs?: number;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  /** When set, each file must come with a valid detached signature at `<url>.sig`. */
  readonly publicKey?: KeyObject;
}

export interface HttpSourceDeps {
  readonly logger: Logger;
  readonly hashOf: (sdl: string) => string;
  /** A version differing from the last one delivered. May throw (rejected): logged by the caller. */
  readonly onVersion: (v: SupergraphVersion) => void | Promise<void>;
  readonly onFetch?: (outcome: FetchOutcome) => void;
  readonly random?: () => number;
}

export interface HttpSource {
  /** Tries each URL in order once; the first good version, or undefined when all fail. */
  fetchNow(): Promise<SupergraphVersion | undefined>;
  /** Starts polling (after `fetchNow` at start). */
  start(): void;
  /** Health of each URL for the status view (no bodies, no credentials: query strings dropped). */
  status(): UrlStatus[];
  stop(): void;
}

/** Delay before the next poll, ms: the interval ± jitter, doubled per consecutive failed round. */
export function nextPollDelayMs(pollMs: number, failedRounds: number, random: () => number = Math.random): number {
  const base = Math.min(pollMs * 2 ** Math.min(failedRounds, 20), Math.max(pollMs, MAX_BACKOFF_MS));
  return Math.max(1, Math.round(base * (1 + (random() * 2 - 1) * POLL_JITTER_RATIO)));
}

/** A URL safe to log: pre-signed URLs carry credentials in the query string. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(invalid url)';
  }
}

class Refused extends Error {}

export function createHttpSource(options: HttpSourceOptions, deps: HttpSourceDeps): HttpSource {
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_SUPERGRAPH_BYTES;
  const log = deps.logger.child({ component: 'supergraph-http' });
  const state = options.urls.map((url) => ({ url, etag: undefined as string | undefined, ok: null as boolean | null, lastError: null as string | null }));
  let lastHash: string | undefined;
  let failedRounds = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let controller = new AbortController();

  async function fetchOne(i: number): Promise<SupergraphVersion | 'not_modified'> {
    const s = state[i]!;
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(timeoutMs)]);
    const res = await fetch(s.url, { headers: s.etag ? { 'if-none-match': s.etag } : {}, signal, redirect: 'follow' });
    if (res.status === 304) {
      await res.body?.cancel();
      return 'not_modified';
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}`);
    }
    const sdl = await readLimited(res, maxBytes);
    if (options.publicKey) {
      const sig = await fetch(sigUrl(s.url), { signal });
      if (sig.status !== 200) {
        await sig.body?.cancel();
        throw new Refused(`no signature (HTTP ${sig.status} for the .sig file)`);
      }
      await verifyDetached(sdl, await readLimited(sig, 16_384), options.publicKey).catch((err: Error) => {
        throw new Refused(err.message);
      });
    }
    // Remembered only once the file is accepted as a delivery: a refused file is fetched again.
    s.etag = res.headers.get('etag') ?? undefined;
    return { sdl, hash: deps.hashOf(sdl), source: redactUrl(s.url) };
  }

  async function round(): Promise<SupergraphVersion | undefined> {
    for (let i = 0; i < state.length; i++) {
      const s = state[i]!;
      try {
        const got = await fetchOne(i);
        s.ok = true;
        s.lastError = null;
        failedRounds = 0;
        if (got === 'not_modified') {
          deps.onFetch?.('not_modified');
          return undefined;
        }
        deps.onFetch?.(got.hash === lastHash ? 'unchanged' : 'changed');
        return got;
      } catch (err) {
        const refused = err instanceof Refused;
        const reason = err instanceof Error ? (err.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : err.message) : String(err);
        s.ok = false;
        s.lastError = reason;
        deps.onFetch?.(refused ? 'refused' : 'failure');
        log[refused ? 'error' : 'warn']({ event: 'supergraph_fetch', outcome: refused ? 'refused' : 'failure', url: redactUrl(s.url), reason }, `supergraph ${refused ? 'refused' : 'fetch failed'} from ${redactUrl(s.url)}: ${reason}${i + 1 < state.length ? '; trying the next URL' : ''}`);
      }
    }
    failedRounds++;
    return undefined;
  }

  async function poll() {
    if (stopped) return;
    const v = await round();
    if (v && v.hash !== lastHash) {
      lastHash = v.hash;
      try {
        await deps.onVersion(v);
      } catch {
        // Rejected: the control plane logged why; the hash stays remembered so it is not offered again.
      }
    }
    schedule();
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(() => void poll(), nextPollDelayMs(pollMs, failedRounds, deps.random));
    timer.unref();
  }

  return {
    async fetchNow() {
      const v = await round();
      if (v) lastHash = v.hash;
      return v;
    },
    start() {
      stopped = false;
      controller = new AbortController();
      schedule();
    },
    status: () => state.map((s) => ({ url: redactUrl(s.url), ok: s.ok, lastError: s.lastError, etag: s.etag ?? null })),
    stop() {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
    },
  };
}

function sigUrl(url: string): string {
  const u = new URL(url);
  u.pathname = `${u.pathname}.sig`;
  return u.toString();
}

/** The body as text, refusing (and cancelling) past `maxBytes` without buffering the excess. */
function readLimited(res: Response, maxBytes: number): Promise<string> {
  return readBodyCapped(res, maxBytes, (declared) =>
    new Refused(declared === undefined ? `file is above the ${maxBytes} byte limit (PORTICO_SUPERGRAPH_MAX_BYTES)` : `file is ${declared} bytes, above the ${maxBytes} byte limit (PORTICO_SUPERGRAPH_MAX_BYTES)`),
  );
}
