import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

/**
 * Where the trusted documents list comes from: the only I/O of this folder. A file is watched
 * like the supergraph file (its folder, so renames and Kubernetes ConfigMap swaps are seen); a
 * URL is polled with `If-None-Match`, so an unchanged list costs a 304.
 */

export interface ManifestSource {
  /** What to name in messages: the file path or the URL. */
  readonly description: string;
  /**
   * Reads the list now: its text, or `unchanged` when the server answered 304.
   * @throws Error whose message says what went wrong (no file, HTTP status, timeout, too large).
   */
  read(): Promise<string | 'unchanged'>;
  /** Calls `onChange` whenever the list may have changed (debounced file events, or each poll). */
  watch(onChange: () => void): void;
  /** Idempotent. */
  close(): void;
}

export interface FileManifestSourceOptions {
  readonly path: string;
  /** Editors and `cp` write in several steps; events are settled this long, ms. */
  readonly debounceMs: number;
}

export function createFileManifestSource(options: FileManifestSourceOptions): ManifestSource {
  const path = resolve(options.path);
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  return {
    description: path,
    async read() {
      try {
        return await readFile(path, 'utf8');
      } catch (err) {
        throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    },
    watch(onChange) {
      const name = basename(path);
      watcher = watch(dirname(path), (_event, changed) => {
        // Other files in the folder are not ours; `..data` is how a ConfigMap volume swaps.
        if (changed !== null && changed !== name && !changed.startsWith('..')) return;
        clearTimeout(timer);
        timer = setTimeout(onChange, options.debounceMs);
      });
      watcher.unref();
    },
    close() {
      clearTimeout(timer);
      watcher?.close();
      watcher = undefined;
    },
  };
}

export interface UrlManifestSourceOptions {
  /** Already checked: https, or http on loopback. */
  readonly url: string;
  readonly pollIntervalMs: number;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

export function createUrlManifestSource(options: UrlManifestSourceOptions): ManifestSource {
  let etag: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  return {
    description: options.url,
    async read() {
      let res: Response;
      try {
        res = await fetch(options.url, {
          headers: { accept: 'application/json', ...(etag ? { 'if-none-match': etag } : {}) },
          signal: AbortSignal.timeout(options.timeoutMs),
          redirect: 'error',
        });
      } catch (err) {
        const timedOut = (err as Error).name === 'TimeoutError';
        throw new Error(timedOut ? `no answer from ${options.url} within ${options.timeoutMs} ms` : `cannot fetch ${options.url}: ${(err as Error).message}`);
      }
      if (res.status === 304) {
        await res.body?.cancel();
        return 'unchanged';
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`${options.url} answered HTTP ${res.status}`);
      }
      const text = await readCapped(res, options.maxBytes, options.url);
      etag = res.headers.get('etag') ?? undefined;
      return text;
    },
    watch(onChange) {
      timer = setInterval(onChange, options.pollIntervalMs);
      timer.unref();
    },
    close() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

/** The body as text, refused as soon as it passes `maxBytes` (a runaway answer is not buffered whole). */
async function readCapped(res: Response, maxBytes: number, url: string): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new Error(`${url} declares ${declared} bytes; the limit is ${maxBytes}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  for (let chunk = await reader?.read(); chunk !== undefined && !chunk.done; chunk = await reader?.read()) {
    size += chunk.value.byteLength;
    if (size > maxBytes) {
      await reader?.cancel();
      throw new Error(`${url} sent more than ${maxBytes} bytes`);
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
