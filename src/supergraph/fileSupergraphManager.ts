import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { SupergraphManager } from '@apollo/gateway';
import type { Logger } from '../logging/index.ts';
import { prepareForGateway } from './prepare.ts';
import { extend } from '../runtime/objects.ts';

/** Editors and `cp` write in several steps; wait for the burst of events to settle. */
export const DEFAULT_RELOAD_DEBOUNCE_MS = 150;

export interface FileSupergraphManagerOptions {
  /** Path of the supergraph SDL file (composed, e.g. by `rover` or `npm run compose`). */
  path: string;
  /** Watch the file's folder and reload on change. Default true. */
  watch?: boolean;
  /** Debounce for file events, ms. Default {@link DEFAULT_RELOAD_DEBOUNCE_MS}. */
  debounceMs?: number;
  /**
   * What the gateway is handed, from the file's text. Default {@link prepareForGateway}; the
   * control plane, which uses this manager as its file source, takes the text as it is.
   */
  prepare?: (sdl: string) => string;
}

export interface SupergraphState {
  /** sha256 of the SDL currently served (first 16 hex digits). */
  hash: string;
  loadedAt: Date;
  /** Last rejected reload, if any since the last good one. */
  lastRejection: { at: Date; reason: string } | undefined;
  reloads: { success: number; failure: number };
}

export interface SupergraphEvents {
  onReload?: (outcome: 'success' | 'failure' | 'unchanged', detail: { hash?: string; reason?: string }) => void;
}

export interface FileSupergraphManager extends SupergraphManager {
  /** Re-reads the file now (admin action). Resolves with the outcome; never throws. */
  reload(): Promise<'success' | 'failure' | 'unchanged'>;
  state(): SupergraphState;
}

export function sdlHash(sdl: string): string {
  return createHash('sha256').update(sdl).digest('hex').slice(0, 16);
}

/**
 * Supergraph from a file, hot-reloaded with last-known-good semantics: a valid new file is
 * swapped in (in-flight requests finish on the plan they started with); an invalid one is
 * rejected with one log line and traffic stays on the previous schema. A bad file at start is
 * fatal — there is nothing good to fall back to.
 */
export function createFileSupergraphManager(
  options: FileSupergraphManagerOptions,
  deps: { logger: Logger } & SupergraphEvents,
): FileSupergraphManager {
  const path = resolve(options.path);
  const debounceMs = options.debounceMs ?? DEFAULT_RELOAD_DEBOUNCE_MS;
  const log = deps.logger.child({ component: 'supergraph', path });
  const prepare = options.prepare ?? prepareForGateway;
  let update: ((sdl: string) => void) | undefined;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let current: SupergraphState | undefined;
  let reloading: Promise<'success' | 'failure' | 'unchanged'> | undefined;

  async function reloadOnce(): Promise<'success' | 'failure' | 'unchanged'> {
    let sdl: string;
    try {
      sdl = await readFile(path, 'utf8');
    } catch (err) {
      return reject(`cannot read file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    const hash = sdlHash(sdl);
    if (current && hash === current.hash) {
      deps.onReload?.('unchanged', { hash });
      return 'unchanged';
    }
    try {
      // The gateway validates and builds the new schema and planner synchronously; if that
      // throws, it keeps serving the previous one untouched.
      update!(prepare(sdl));
    } catch (err) {
      return reject(firstLine(err));
    }
    current = { hash, loadedAt: new Date(), lastRejection: undefined, reloads: bump(current, 'success') };
    log.info({ event: 'supergraph_reload', outcome: 'success', hash }, 'supergraph reloaded');
    deps.onReload?.('success', { hash });
    return 'success';
  }

  function reject(reason: string): 'failure' {
    if (current) current = extend(current, { lastRejection: { at: new Date(), reason }, reloads: bump(current, 'failure') });
    log.error({ event: 'supergraph_reload', outcome: 'failure', reason, servingHash: current?.hash }, `supergraph rejected, keeping the last good one: ${reason}`);
    deps.onReload?.('failure', { reason });
    return 'failure';
  }

  function reload(): Promise<'success' | 'failure' | 'unchanged'> {
    // Serialize: the gateway refuses an update while another is in progress.
    const next = (reloading ?? Promise.resolve('unchanged' as const)).then(reloadOnce, reloadOnce);
    reloading = next;
    return next;
  }

  return {
    async initialize(hooks) {
      update = hooks.update;
      let sdl: string;
      try {
        sdl = await readFile(path, 'utf8');
      } catch (err) {
        throw new Error(`cannot read supergraph file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)} (PORTICO_SUPERGRAPH_PATH)`);
      }
      current = { hash: sdlHash(sdl), loadedAt: new Date(), lastRejection: undefined, reloads: { success: 0, failure: 0 } };
      if (options.watch !== false) {
        // Watch the folder, not the file: tools replace files by rename, which ends a file watch,
        // and Kubernetes swaps a ConfigMap volume through a `..data` symlink, so the event names
        // another entry. Any event in the folder triggers a (debounced) re-read; an unchanged
        // hash makes it a no-op.
        watcher = watch(dirname(path), () => {
          clearTimeout(timer);
          timer = setTimeout(() => void reload(), debounceMs);
        });
        watcher.unref();
      }
      return {
        supergraphSdl: prepare(sdl),
        cleanup: async () => {
          clearTimeout(timer);
          watcher?.close();
        },
      };
    },
    reload,
    state() {
      if (!current) throw new Error('supergraph not loaded yet');
      return current;
    },
  };
}

function bump(state: SupergraphState | undefined, key: 'success' | 'failure'): { success: number; failure: number } {
  const r = state?.reloads ?? { success: 0, failure: 0 };
  return key === 'success' ? { success: r.success + 1, failure: r.failure } : { success: r.success, failure: r.failure + 1 };
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n').find((l) => l.trim() !== '')?.trim().slice(0, 300) ?? 'invalid supergraph';
}
