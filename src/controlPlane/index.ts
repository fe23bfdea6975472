import type { KeyObject } from 'node:crypto';
import type { SupergraphManager } from '@apollo/gateway';
import type { Logger } from '../logging/index.ts';
import { subscribeChannels, whenReady, type RedisClient, type RedisSubscription } from '../redis/index.ts';
import { createFileSupergraphManager, sdlHash, type FileSupergraphManager, type SupergraphState } from '../supergraph/fileSupergraphManager.ts';
import { prepareForGateway } from '../supergraph/prepare.ts';
import { emptyLaneStats, isFailure, judgeCanary, laneFor, percentile, recordOutcome, type CanaryPolicy, type CanaryVerdict, type Lane, type LaneStats, type RequestOutcome } from './canary.ts';
import { createSupergraphDiskCache, type SupergraphDiskCache } from './diskCache.ts';
import { createHttpSource, type HttpSource } from './httpSource.ts';
import type { FetchOutcome, SourceKind, SupergraphVersion } from './types.ts';

export { type Lane, type RequestOutcome, type CanaryPolicy } from './canary.ts';
export { FETCH_OUTCOMES, SOURCE_KINDS, type FetchOutcome, type SourceKind, type SupergraphVersion } from './types.ts';

/**
 * The control plane of one instance: where the supergraph comes from (a file, HTTP URLs with
 * mirrors, a Redis push), the last good one on disk for cold starts, and the canary that puts a
 * new one in front of a share of requests first and promotes or rolls it back — the same way on
 * every instance, through Redis. With only a file configured it is today's file manager: new
 * versions swap in at once, a bad one is refused and the last good one keeps serving.
 */

/** Redis keys and channels, namespaced like every other Portico key. */
export const REDIS_KEYS = {
  /** JSON `{hash, sdl, publishedAt}`: the latest published supergraph (catch-up after a reconnect). */
  latest: 'portico:supergraph:latest',
  /** Published with the hash when `latest` changes. */
  published: 'portico:supergraph:published',
  /** `decision:<hash>`: JSON verdict of a canary, set once (NX) by the first instance to decide. */
  decisionPrefix: 'portico:supergraph:decision:',
  /** Published with the hash when a decision is made. */
  decisions: 'portico:supergraph:decisions',
  /** Hash of instance id → JSON of what it serves (`npm run supergraph -- status`). */
  instances: 'portico:supergraph:instances',
} as const;

/** A decision is kept a week: a late instance offered that version still follows it. */
const DECISION_TTL_S = 7 * 86_400;
/** How often an instance re-announces what it serves, ms; `status` ignores entries 3× older. */
export const ANNOUNCE_EVERY_MS = 5_000;
/** How often a running canary is judged besides on each of its requests, ms. */
const JUDGE_EVERY_MS = 500;
/** Wait for Redis at start before giving up on the pushed version, ms. */
const START_REDIS_WAIT_MS = 1_500;

export interface ControlPlaneOptions {
  /** The file source; undefined when the supergraph comes only from URLs / Redis. */
  readonly file: { readonly path: string; readonly watch: boolean } | undefined;
  readonly http: { readonly urls: readonly string[]; readonly pollMs: number; readonly timeoutMs: number; readonly maxBytes: number; readonly publicKey: KeyObject | undefined } | undefined;
  /** Subscribe to pushed supergraphs through Redis (needs the Redis client). */
  readonly push: boolean;
  readonly cacheDir: string | undefined;
  readonly canary: CanaryPolicy;
  readonly instanceId: string;
}

/** The canary's second gateway, built by the wiring (it owns Apollo); pure I/O from here. */
export interface CanaryLanes {
  /** Builds and starts a gateway serving `sdl` next to the stable one; rejects when it refuses the schema. */
  open(sdl: string): Promise<void>;
  /** Stops it once its in-flight requests have finished. */
  close(): Promise<void>;
}

export interface ControlPlaneEvents {
  onReload?: (outcome: 'success' | 'failure' | 'unchanged') => void;
  onFetch?: (source: SourceKind, outcome: FetchOutcome) => void;
  onCanary?: (event: 'started' | 'promoted' | 'rolled_back') => void;
  onCanaryRequest?: (lane: Lane, failed: boolean) => void;
}

export interface ControlPlaneDeps extends ControlPlaneEvents {
  readonly logger: Logger;
  readonly redis: RedisClient | undefined;
  readonly lanes: CanaryLanes;
  readonly now?: () => number;
}

export interface Decision {
  readonly hash: string;
  readonly decision: 'promoted' | 'rolled-back';
  readonly reason: string;
  readonly at: string;
  /** Instance that decided (or `admin@<instance>`). */
  readonly by: string;
}

export interface LaneSummary {
  requests: number;
  failed: number;
  errorRate: number;
  p99Ms: number | null;
  byCode: Record<string, number>;
}

/** The control plane's part of `/health/subgraphs` and `/status`. */
export interface ControlPlaneStatus {
  serving: { hash: string; since: string; source: string; ageS: number } | null;
  canary: {
    hash: string;
    source: string;
    percent: number;
    startedAt: string;
    verdict: string;
    stable: LaneSummary;
    canary: LaneSummary;
  } | null;
  lastDecision: Decision | null;
  sources: { file: string | null; http: ReturnType<HttpSource['status']>; push: { subscribed: boolean; lastReceived: { hash: string; at: string } | null } | null; cache: { dir: string; lastWrite: string | null; lastError: string | null } | null };
}

export interface ControlPlane {
  /** The stable gateway's supergraph manager (`supergraphSdl` of `ApolloGateway`). */
  readonly manager: SupergraphManager;
  /** Admin "reload": re-reads the file and polls the URLs now. */
  reload(): Promise<'success' | 'failure' | 'unchanged'>;
  /** What the stable lane serves; compatible with the file manager's state. */
  state(): SupergraphState;
  status(): ControlPlaneStatus;
  /** Lane of a request; `clientKey` (the caller's subject) makes it sticky. */
  pick(clientKey: string | undefined): Lane;
  /** One finished request of a lane. */
  record(lane: Lane, outcome: RequestOutcome): void;
  /** Admin: promote the running canary now (every instance follows). */
  promote(): Promise<{ ok: boolean; message: string }>;
  /** Admin: abort the running canary, or roll back the last promoted version if none runs. */
  abort(): Promise<{ ok: boolean; message: string }>;
  stop(): Promise<void>;
}

interface Serving extends SupergraphVersion {
  since: Date;
}

interface RunningCanary {
  version: SupergraphVersion;
  startedAt: number;
  stable: LaneStats;
  canary: LaneStats;
  verdict: CanaryVerdict;
  deciding: boolean;
}

export function createControlPlane(options: ControlPlaneOptions, deps: ControlPlaneDeps): ControlPlane {
  const log = deps.logger.child({ component: 'control-plane' });
  const now = deps.now ?? Date.now;
  const redis = options.push || options.canary.percent > 0 ? deps.redis : undefined;
  const cache: SupergraphDiskCache | undefined = options.cacheDir ? createSupergraphDiskCache(options.cacheDir, sdlHash) : undefined;
  let update: ((sdl: string) => void) | undefined;
  let stable: Serving | undefined;
  let previous: Serving | undefined;
  let canary: RunningCanary | undefined;
  let lastDecision: Decision | undefined;
  let lastRejection: SupergraphState['lastRejection'];
  const reloads = { success: 0, failure: 0 };
  /** Hashes rolled back: never offered to a lane again by any source. */
  const rejected = new Set<string>();
  let cacheState: { lastWrite: string | null; lastError: string | null } = { lastWrite: null, lastError: null };
  let subscription: RedisSubscription | undefined;
  let subscribed = false;
  let lastPushed: { hash: string; at: string } | undefined;
  let judgeTimer: NodeJS.Timeout | undefined;
  let announceTimer: NodeJS.Timeout | undefined;
  /** Offers are handled one at a time: a canary opening must finish before the next version is looked at. */
  let queue: Promise<unknown> = Promise.resolve();
  let stopped = false;

  const file: FileSupergraphManager | undefined = options.file
    ? createFileSupergraphManager(
        { path: options.file.path, watch: options.file.watch, prepare: (sdl) => sdl },
        // The file manager hands us the raw text through `update`; successes and failures are
        // counted here, an unchanged file only it can see.
        { logger: deps.logger, onReload: (outcome) => outcome === 'unchanged' && deps.onReload?.('unchanged') },
      )
    : undefined;
  const fileSource = options.file ? `file:${options.file.path}` : undefined;
  const http: HttpSource | undefined = options.http
    ? createHttpSource(options.http, {
        logger: deps.logger,
        hashOf: sdlHash,
        onVersion: async (v) => {
          await offer(v);
        },
        onFetch: (outcome) => deps.onFetch?.('http', outcome),
      })
    : undefined;

  /** `quiet`: the file manager logs this reload itself (one line per file change, as before). */
  function swapStable(v: SupergraphVersion, since = new Date(), quiet = false): void {
    // The gateway validates and builds synchronously; a throw leaves the old schema serving.
    update!(prepareForGateway(v.sdl));
    previous = stable;
    stable = { ...v, since };
    lastRejection = undefined;
    reloads.success++;
    deps.onReload?.('success');
    if (!quiet) log.info({ event: 'supergraph_reload', outcome: 'success', hash: v.hash, source: v.source }, `supergraph ${v.hash} from ${v.source} now serves every request`);
    persist();
    announce();
  }

  /** `quiet`: the file manager logs this rejection itself (one line per rejected file, as before). */
  function reject(v: Pick<SupergraphVersion, 'hash' | 'source'>, reason: string, quiet = false): void {
    lastRejection = { at: new Date(), reason };
    reloads.failure++;
    deps.onReload?.('failure');
    if (!quiet) log.error({ event: 'supergraph_reload', outcome: 'failure', hash: v.hash, source: v.source, reason, servingHash: stable?.hash }, `supergraph ${v.hash} from ${v.source} rejected, keeping ${stable?.hash ?? 'nothing'}: ${reason}`);
  }

  function persist(): void {
    if (!cache || !stable) return;
    const s = stable;
    cache.write({ sdl: s.sdl, hash: s.hash, source: s.source, since: s.since.toISOString() }).then(
      () => (cacheState = { lastWrite: new Date().toISOString(), lastError: null }),
      (err: NodeJS.ErrnoException) => {
        cacheState = { ...cacheState, lastError: err.code ?? String(err) };
        log.warn({ event: 'supergraph_cache', outcome: 'failure', dir: cache.dir, reason: err.code ?? String(err) }, `cannot write the supergraph cache in ${cache.dir} (PORTICO_SUPERGRAPH_CACHE_DIR): ${err.code ?? String(err)}`);
      },
    );
  }

  function announce(): void {
    if (!redis || !stable || redis.status !== 'ready') return;
    const entry = { hash: stable.hash, since: stable.since.toISOString(), source: stable.source, canary: canary ? { hash: canary.version.hash, percent: options.canary.percent } : null, at: new Date().toISOString() };
    redis.hset(REDIS_KEYS.instances, options.instanceId, JSON.stringify(entry)).catch(() => undefined);
  }

  /** A version from any source. Never throws for the poller; throws for the file source (its own rejection log). */
  function offer(v: SupergraphVersion): Promise<'success' | 'failure' | 'unchanged'> {
    const next = queue.then(() => offerNow(v));
    queue = next.catch(() => undefined);
    return next;
  }

  async function offerNow(v: SupergraphVersion): Promise<'success' | 'failure' | 'unchanged'> {
    if (stopped || !stable) return 'unchanged';
    if (v.hash === stable.hash || v.hash === canary?.version.hash) return 'unchanged';
    if (rejected.has(v.hash)) {
      log.info({ event: 'supergraph_ignored', hash: v.hash, source: v.source }, `supergraph ${v.hash} from ${v.source} was rolled back before; ignored`);
      return 'unchanged';
    }
    const shared = await sharedDecision(v.hash);
    if (shared?.decision === 'rolled-back') {
      rejected.add(v.hash);
      reject(v, `rolled back by ${shared.by}: ${shared.reason}`);
      return 'failure';
    }
    if (options.canary.percent <= 0 || shared?.decision === 'promoted') {
      try {
        swapStable(v);
        return 'success';
      } catch (err) {
        reject(v, firstLine(err));
        return 'failure';
      }
    }
    if (canary) await endCanary('superseded', `superseded by ${v.hash}`);
    try {
      await deps.lanes.open(prepareForGateway(v.sdl));
    } catch (err) {
      reject(v, firstLine(err));
      return 'failure';
    }
    canary = { version: v, startedAt: now(), stable: emptyLaneStats(), canary: emptyLaneStats(), verdict: { decision: 'wait', reason: 'just started' }, deciding: false };
    deps.onCanary?.('started');
    log.warn({ event: 'canary_started', hash: v.hash, source: v.source, percent: options.canary.percent, stableHash: stable.hash }, `canary ${v.hash} from ${v.source} serves ${options.canary.percent} % of requests next to ${stable.hash}`);
    clearInterval(judgeTimer);
    judgeTimer = setInterval(judge, JUDGE_EVERY_MS);
    judgeTimer.unref();
    announce();
    // Another instance may have decided while this one was building its canary gateway.
    const decided = await sharedDecision(v.hash);
    if (decided) await apply(decided);
    return 'success';
  }

  function judge(): void {
    const c = canary;
    if (!c || c.deciding) return;
    c.verdict = judgeCanary(c.stable, c.canary, now() - c.startedAt, options.canary);
    if (c.verdict.decision === 'wait') return;
    void decide(c, c.verdict.decision === 'promote' ? 'promoted' : 'rolled-back', c.verdict.reason, options.instanceId);
  }

  /** Records the decision in Redis (first one wins) and applies whichever decision won. */
  async function decide(c: RunningCanary, decision: Decision['decision'], reason: string, by: string): Promise<Decision> {
    c.deciding = true;
    let d: Decision = { hash: c.version.hash, decision, reason, at: new Date().toISOString(), by };
    if (redis && redis.status === 'ready') {
      try {
        const set = await redis.set(REDIS_KEYS.decisionPrefix + d.hash, JSON.stringify(d), 'EX', DECISION_TTL_S, 'NX');
        if (set === 'OK') await redis.publish(REDIS_KEYS.decisions, d.hash);
        else d = (await sharedDecision(d.hash)) ?? d;
      } catch (err) {
        // Redis down: this instance decides alone; the others judge their own canary.
        log.warn({ event: 'canary_decision_unshared', hash: d.hash, reason: firstLine(err) }, 'canary decision not shared: Redis unavailable');
      }
    }
    await apply(d);
    return d;
  }

  async function apply(d: Decision): Promise<void> {
    const c = canary;
    if (c && c.version.hash === d.hash) {
      canary = undefined;
      clearInterval(judgeTimer);
      lastDecision = d;
      const stats = { stable: summary(c.stable), canary: summary(c.canary) };
      if (d.decision === 'promoted') {
        try {
          swapStable(c.version);
          deps.onCanary?.('promoted');
          log.warn({ event: 'canary_promoted', hash: d.hash, by: d.by, reason: d.reason, ...stats }, `canary ${d.hash} promoted (${d.by}): ${d.reason}`);
        } catch (err) {
          rejected.add(d.hash);
          reject(c.version, firstLine(err));
        }
      } else {
        rejected.add(d.hash);
        reject(c.version, `canary rolled back (${d.by}): ${d.reason}`);
        deps.onCanary?.('rolled_back');
        log.error({ event: 'canary_rolled_back', hash: d.hash, by: d.by, reason: d.reason, ...stats }, `canary ${d.hash} rolled back (${d.by}): ${d.reason}`);
      }
      await deps.lanes.close().catch((err: unknown) => log.warn({ err }, 'closing the canary lane failed'));
      announce();
      return;
    }
    if (d.decision === 'rolled-back' && stable?.hash === d.hash && previous) {
      // A promoted version rolled back by an admin: back to the one it replaced.
      rejected.add(d.hash);
      lastDecision = d;
      const back = previous;
      try {
        swapStable(back, new Date());
        previous = undefined;
        deps.onCanary?.('rolled_back');
        log.error({ event: 'supergraph_rolled_back', hash: d.hash, to: back.hash, by: d.by, reason: d.reason }, `supergraph ${d.hash} rolled back to ${back.hash} (${d.by}): ${d.reason}`);
      } catch (err) {
        reject(back, firstLine(err));
      }
    }
  }

  async function endCanary(decision: 'superseded', reason: string): Promise<void> {
    const c = canary;
    if (!c) return;
    canary = undefined;
    clearInterval(judgeTimer);
    log.warn({ event: 'canary_superseded', hash: c.version.hash, reason }, `canary ${c.version.hash} ${decision}: ${reason}`);
    await deps.lanes.close().catch(() => undefined);
  }

  async function sharedDecision(hash: string): Promise<Decision | undefined> {
    if (!redis || redis.status !== 'ready') return undefined;
    try {
      const raw = await redis.get(REDIS_KEYS.decisionPrefix + hash);
      return raw ? (JSON.parse(raw) as Decision) : undefined;
    } catch {
      return undefined;
    }
  }

  async function latestPushed(): Promise<(SupergraphVersion & { publishedAt: number }) | undefined> {
    if (!redis) return undefined;
    try {
      const raw = await redis.get(REDIS_KEYS.latest);
      if (!raw) return undefined;
      const doc = JSON.parse(raw) as { sdl?: unknown; publishedAt?: unknown };
      if (typeof doc.sdl !== 'string') throw new Error('no sdl field');
      const hash = sdlHash(doc.sdl);
      deps.onFetch?.('redis', hash === stable?.hash ? 'unchanged' : 'changed');
      const publishedAt = typeof doc.publishedAt === 'string' ? Date.parse(doc.publishedAt) : NaN;
      return { sdl: doc.sdl, hash, source: 'redis', publishedAt: Number.isNaN(publishedAt) ? 0 : publishedAt };
    } catch (err) {
      deps.onFetch?.('redis', 'failure');
      log.warn({ event: 'supergraph_fetch', source: 'redis', reason: firstLine(err) }, `cannot read the pushed supergraph from Redis: ${firstLine(err)}`);
      return undefined;
    }
  }

  /**
   * Reads the latest pushed version and offers it. After a (re)subscription (`onlyIfNewer`) only
   * a version published after the served one was first served is offered: one published while
   * this instance was away, not an old push the registry has since superseded.
   */
  async function catchUp(onlyIfNewer: boolean): Promise<void> {
    const v = await latestPushed();
    if (!v) return;
    if (onlyIfNewer && stable && v.publishedAt <= stable.since.getTime()) return;
    // When the push arrived, apart from how long the canary gateway then takes to build.
    if (v.hash !== lastPushed?.hash) lastPushed = { hash: v.hash, at: new Date().toISOString() };
    await offer(v);
  }

  /** The first supergraph: sources in order of preference, then the disk cache. */
  async function initial(): Promise<{ version: SupergraphVersion; since?: Date }> {
    const tried: string[] = [];
    if (http) {
      const v = await http.fetchNow();
      if (v) return { version: v };
      tried.push(`URLs (${http.status().map((s) => `${s.url}: ${s.lastError}`).join('; ')}) (PORTICO_SUPERGRAPH_URLS)`);
    }
    if (redis && options.push) {
      if (await whenReady(redis, START_REDIS_WAIT_MS)) {
        const v = await latestPushed();
        if (v) return { version: v };
        tried.push(`Redis push (nothing published under ${REDIS_KEYS.latest})`);
      } else {
        tried.push('Redis push (Redis unreachable)');
      }
    }
    if (file) {
      try {
        let sdl: string | undefined;
        await file.initialize({
          update: (raw: string) => {
            if (!stable) return;
            // Raw text from a watched change. Without a canary it is swapped in synchronously and
            // a throw reaches the file manager, which logs the rejection; with one it is queued.
            const v = { sdl: raw, hash: sdlHash(raw), source: fileSource! };
            if (options.canary.percent > 0) {
              void offer(v);
              return;
            }
            if (v.hash === stable.hash || rejected.has(v.hash)) return;
            try {
              swapStable(v, new Date(), true);
            } catch (err) {
              reject(v, firstLine(err), true);
              throw err;
            }
          },
          healthCheck: async () => undefined,
          getDataSource: () => {
            throw new Error('not used');
          },
        }).then((r) => {
          sdl = r.supergraphSdl;
          fileCleanup = r.cleanup;
        });
        return { version: { sdl: sdl!, hash: sdlHash(sdl!), source: fileSource! } };
      } catch (err) {
        tried.push(firstLine(err));
      }
    }
    if (cache) {
      const cached = await cache.read();
      if (cached) {
        deps.onFetch?.('cache', 'changed');
        log.warn(
          { event: 'supergraph_cold_start_from_cache', hash: cached.hash, dir: cache.dir, since: cached.since, originalSource: cached.source, tried },
          `every supergraph source is down; starting from the cached supergraph ${cached.hash} (${cached.source}, serving since ${cached.since}) in ${cache.dir}`,
        );
        return { version: { sdl: cached.sdl, hash: cached.hash, source: `cache:${cached.source}` }, since: new Date(cached.since) };
      }
      tried.push(`no cached supergraph in ${cache.dir} (PORTICO_SUPERGRAPH_CACHE_DIR)`);
    }
    throw new Error(`no supergraph to start with: ${tried.join('; ')}`);
  }
  let fileCleanup: (() => Promise<void>) | undefined;

  function summary(s: LaneStats): LaneSummary {
    return { requests: s.requests, failed: s.failed, errorRate: s.requests ? s.failed / s.requests : 0, p99Ms: percentile(s.latencies, 99) ?? null, byCode: { ...s.byCode } };
  }

  const manager: SupergraphManager = {
    async initialize(hooks) {
      update = hooks.update;
      const first = await initial();
      stable = { ...first.version, since: first.since ?? new Date() };
      log.info({ event: 'supergraph_loaded', hash: stable.hash, source: stable.source }, `supergraph ${stable.hash} from ${stable.source}`);
      if (!first.version.source.startsWith('cache:')) persist();
      http?.start();
      if (redis && options.push) {
        subscription = subscribeChannels(redis, [REDIS_KEYS.published, REDIS_KEYS.decisions], {
          onMessage: (channel, hash) => {
            if (channel === REDIS_KEYS.published) void catchUp(false);
            else if (channel === REDIS_KEYS.decisions) void sharedDecision(hash).then((d) => d && apply(d));
          },
          onSubscribed: () => {
            subscribed = true;
            // Whatever was published while this instance was away, and any decision it missed.
            void catchUp(true);
            if (canary) void sharedDecision(canary.version.hash).then((d) => d && apply(d));
          },
        });
      } else if (redis) {
        // Canary decisions shared without push: still listen for them.
        subscription = subscribeChannels(redis, [REDIS_KEYS.decisions], {
          onMessage: (_channel, hash) => void sharedDecision(hash).then((d) => d && apply(d)),
          onSubscribed: () => {
            subscribed = true;
            if (canary) void sharedDecision(canary.version.hash).then((d) => d && apply(d));
          },
        });
      }
      if (redis) {
        announceTimer = setInterval(announce, ANNOUNCE_EVERY_MS);
        announceTimer.unref();
      }
      return {
        supergraphSdl: prepareForGateway(stable.sdl),
        cleanup: async () => {
          await stop();
        },
      };
    },
  };

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    clearInterval(judgeTimer);
    clearInterval(announceTimer);
    http?.stop();
    await fileCleanup?.();
    await subscription?.close();
    if (redis && redis.status === 'ready') await redis.hdel(REDIS_KEYS.instances, options.instanceId).catch(() => undefined);
    if (canary) {
      canary = undefined;
      await deps.lanes.close().catch(() => undefined);
    }
  }

  return {
    manager,
    async reload() {
      const outcomes: ('success' | 'failure' | 'unchanged')[] = [];
      if (file) {
        const before = reloads.failure;
        const o = await file.reload();
        await queue;
        outcomes.push(o === 'failure' || reloads.failure > before ? 'failure' : o);
      }
      if (http) {
        const v = await http.fetchNow();
        outcomes.push(v ? await offer(v) : 'unchanged');
      }
      return outcomes.includes('failure') ? 'failure' : outcomes.includes('success') ? 'success' : 'unchanged';
    },
    state() {
      if (!stable) throw new Error('supergraph not loaded yet');
      return { hash: stable.hash, loadedAt: stable.since, lastRejection, reloads: { ...reloads } };
    },
    status() {
      const c = canary;
      return {
        serving: stable ? { hash: stable.hash, since: stable.since.toISOString(), source: stable.source, ageS: Math.max(0, Math.round((now() - stable.since.getTime()) / 1000)) } : null,
        canary: c
          ? { hash: c.version.hash, source: c.version.source, percent: options.canary.percent, startedAt: new Date(c.startedAt).toISOString(), verdict: c.verdict.reason, stable: summary(c.stable), canary: summary(c.canary) }
          : null,
        lastDecision: lastDecision ?? null,
        sources: {
          file: fileSource ?? null,
          http: http?.status() ?? [],
          push: redis && options.push ? { subscribed, lastReceived: lastPushed ?? null } : null,
          cache: cache ? { dir: cache.dir, ...cacheState } : null,
        },
      };
    },
    pick(clientKey) {
      const c = canary;
      return c ? laneFor(options.canary.percent, c.version.hash, clientKey) : 'stable';
    },
    record(lane, outcome) {
      const c = canary;
      if (!c) return;
      recordOutcome(lane === 'canary' ? c.canary : c.stable, outcome);
      deps.onCanaryRequest?.(lane, isFailure(outcome));
      if (lane === 'canary') judge();
    },
    async promote() {
      const c = canary;
      if (!c || c.deciding) return { ok: false, message: 'no canary is running' };
      const d = await decide(c, 'promoted', 'promoted by an admin', `admin@${options.instanceId}`);
      return { ok: d.decision === 'promoted', message: `${d.hash} ${d.decision} (${d.by}): ${d.reason}` };
    },
    async abort() {
      const c = canary;
      if (c && !c.deciding) {
        const d = await decide(c, 'rolled-back', 'aborted by an admin', `admin@${options.instanceId}`);
        return { ok: d.decision === 'rolled-back', message: `${d.hash} ${d.decision} (${d.by}): ${d.reason}` };
      }
      if (!stable || !previous) return { ok: false, message: 'no canary is running and no earlier supergraph to roll back to' };
      const s = stable;
      const d: Decision = { hash: s.hash, decision: 'rolled-back', reason: `rolled back to ${previous.hash} by an admin`, at: new Date().toISOString(), by: `admin@${options.instanceId}` };
      if (redis && redis.status === 'ready') {
        await redis.set(REDIS_KEYS.decisionPrefix + d.hash, JSON.stringify(d), 'EX', DECISION_TTL_S).catch(() => undefined);
        await redis.publish(REDIS_KEYS.decisions, d.hash).catch(() => undefined);
      }
      await apply(d);
      return { ok: true, message: `${d.hash} rolled back; serving ${stable.hash}` };
    },
    stop,
  };
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n').find((l) => l.trim() !== '')?.trim().slice(0, 300) ?? 'invalid supergraph';
}
