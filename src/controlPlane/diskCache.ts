import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extend } from '../runtime/objects.ts';

/**
 * The last good supergraph on local disk (PORTICO_SUPERGRAPH_CACHE_DIR), so an instance started
 * while every source is down still serves. Written atomically: a temp file in the same folder,
 * then `rename`, so a crash mid-write leaves the previous copy, never half a file.
 */

export const CACHE_FILE = 'supergraph.graphql';
export const CACHE_META_FILE = 'supergraph.json';

export interface CachedSupergraph {
  readonly sdl: string;
  readonly hash: string;
  /** Where it originally came from (`https://…`, `redis`, `file:…`). */
  readonly source: string;
  /** When it was first served, ISO. */
  readonly since: string;
}

export interface SupergraphDiskCache {
  /** Undefined when there is no cache (or it is unreadable: a warning is the caller's). */
  read(): Promise<CachedSupergraph | undefined>;
  /** Atomic; rejects on I/O errors (the caller logs and keeps serving). */
  write(entry: CachedSupergraph): Promise<void>;
  /** `write` in the background: the outcome goes to `state()`, a failure also to `onError`. */
  keep(entry: CachedSupergraph, onError: (reason: string) => void): void;
  /** When the last background write succeeded, and the last error (cleared by a success). */
  state(): { lastWrite: string | null; lastError: string | null };
  readonly dir: string;
}

export function createSupergraphDiskCache(dir: string, hashOf: (sdl: string) => string): SupergraphDiskCache {
  const sdlPath = join(dir, CACHE_FILE);
  const metaPath = join(dir, CACHE_META_FILE);
  let state: { lastWrite: string | null; lastError: string | null } = { lastWrite: null, lastError: null };
  const cache: SupergraphDiskCache = {
    dir,
    state: () => ({ ...state }),
    keep(entry, onError) {
      cache.write(entry).then(
        () => (state = { lastWrite: new Date().toISOString(), lastError: null }),
        (err: NodeJS.ErrnoException) => {
          const reason = err.code ?? String(err);
          state = extend(state, { lastError: reason });
          onError(reason);
        },
      );
    },
    async read() {
      let sdl: string;
      try {
        sdl = await readFile(sdlPath, 'utf8');
      } catch {
        return undefined;
      }
      const hash = hashOf(sdl);
      let meta: Partial<CachedSupergraph> = {};
      try {
        meta = JSON.parse(await readFile(metaPath, 'utf8')) as Partial<CachedSupergraph>;
      } catch {
        // The SDL alone is enough; the metadata only says where it came from.
      }
      // Metadata of another version (a crash between the two renames) is ignored; the file's own
      // time is then the best "since" there is.
      const matches = meta.hash === hash;
      const since = matches && typeof meta.since === 'string' ? meta.since : (await stat(sdlPath)).mtime.toISOString();
      return { sdl, hash, source: matches && typeof meta.source === 'string' ? meta.source : 'unknown', since };
    },
    async write(entry) {
      await mkdir(dir, { recursive: true });
      const suffix = `.${process.pid}.${Date.now()}.tmp`;
      await writeFile(sdlPath + suffix, entry.sdl);
      await writeFile(metaPath + suffix, JSON.stringify({ hash: entry.hash, source: entry.source, since: entry.since }));
      await rename(sdlPath + suffix, sdlPath);
      await rename(metaPath + suffix, metaPath);
    },
  };
  return cache;
}
