import type { Logger } from '../logging/index.ts';
import { whenReady, type RedisClient } from '../redis/index.ts';
import { sdlHash, type FileSupergraphManager } from '../supergraph/fileSupergraphManager.ts';
import type { SupergraphDiskCache } from './diskCache.ts';
import type { HttpSource } from './httpSource.ts';
import { REDIS_KEYS, firstLine } from './shared.ts';
import type { ControlPlaneEvents, SupergraphVersion } from './types.ts';

/** Wait for Redis at start before giving up on the pushed version, ms. */
const START_REDIS_WAIT_MS = 1_500;

export interface StartSources {
  readonly http: HttpSource | undefined;
  readonly pushed: { readonly redis: RedisClient; readonly latest: () => Promise<SupergraphVersion | undefined> } | undefined;
  /** `onChange` gets the raw text of every later change of the watched file. */
  readonly file: { readonly manager: FileSupergraphManager; readonly source: string; readonly onChange: (raw: string) => void } | undefined;
  readonly cache: SupergraphDiskCache | undefined;
}

export interface FirstSupergraph {
  readonly version: SupergraphVersion;
  /** When it was first served: only a cold start from the disk cache knows an earlier time. */
  readonly since?: Date;
  /** Stops watching the file, when the file source was initialised. */
  readonly cleanup?: () => Promise<void>;
}

/**
 * The first supergraph of an instance: the sources in order of preference (registry URLs, the
 * Redis push, the file), then the disk cache, so an instance can start while the control plane
 * is down. Throws, naming what each source said, when none has one.
 */
export async function firstSupergraph(sources: StartSources, deps: { readonly log: Logger; readonly onFetch: ControlPlaneEvents['onFetch'] }): Promise<FirstSupergraph> {
  const { http, pushed, file, cache } = sources;
  const tried: string[] = [];
  if (http) {
    const v = await http.fetchNow();
    if (v) return { version: v };
    tried.push(`URLs (${http.status().map((s) => `${s.url}: ${s.lastError}`).join('; ')}) (PORTICO_SUPERGRAPH_URLS)`);
  }
  if (pushed) {
    if (await whenReady(pushed.redis, START_REDIS_WAIT_MS)) {
      const v = await pushed.latest();
      if (v) return { version: v };
      tried.push(`Redis push (nothing published under ${REDIS_KEYS.latest})`);
    } else {
      tried.push('Redis push (Redis unreachable)');
    }
  }
  if (file) {
    try {
      const r = await file.manager.initialize({
        update: file.onChange,
        healthCheck: async () => undefined,
        getDataSource: () => {
          throw new Error('not used');
        },
      });
      const sdl = r.supergraphSdl;
      return { version: { sdl, hash: sdlHash(sdl), source: file.source }, cleanup: r.cleanup };
    } catch (err) {
      tried.push(firstLine(err));
    }
  }
  if (cache) {
    const cached = await cache.read();
    if (cached) {
      deps.onFetch?.('cache', 'changed');
      deps.log.warn(
        { event: 'supergraph_cold_start_from_cache', hash: cached.hash, dir: cache.dir, since: cached.since, originalSource: cached.source, tried },
        `every supergraph source is down; starting from the cached supergraph ${cached.hash} (${cached.source}, serving since ${cached.since}) in ${cache.dir}`,
      );
      return { version: { sdl: cached.sdl, hash: cached.hash, source: `cache:${cached.source}` }, since: new Date(cached.since) };
    }
    tried.push(`no cached supergraph in ${cache.dir} (PORTICO_SUPERGRAPH_CACHE_DIR)`);
  }
  throw new Error(`no supergraph to start with: ${tried.join('; ')}`);
}
