import type { SupergraphManager } from '@apollo/gateway';
import type { RedisSubscription } from '../redis/index.ts';
import { createFileSupergraphManager, sdlHash, type FileSupergraphManager, type SupergraphState } from '../supergraph/fileSupergraphManager.ts';
import { prepareForGateway } from '../supergraph/prepare.ts';
import { emptyLaneStats, isFailure, judgeCanary, laneFor, laneSummary, recordOutcome } from './canary.ts';
import { createSupergraphDiskCache, type SupergraphDiskCache } from './diskCache.ts';
import { createHttpSource, type HttpSource } from './httpSource.ts';
import { firstSupergraph } from './initial.ts';
import { ANNOUNCE_EVERY_MS, announceServing, firstLine, followDeployment, overrideDecision, readDecision, readLatestPushed, recordDecision, withdrawServing } from './shared.ts';
import { statusView } from './status.ts';
import type { ControlPlane, ControlPlaneDeps, ControlPlaneOptions, Decision, RunningCanary, Serving, SupergraphVersion } from './types.ts';
import { extend } from '../runtime/objects.ts';

export { type Lane, type LaneSummary, type RequestOutcome, type CanaryPolicy } from './canary.ts';
export { FETCH_OUTCOMES, SOURCE_KINDS, type FetchOutcome, type SourceKind, type SupergraphVersion } from './types.ts';
export type { CanaryLanes, ControlPlane, ControlPlaneDeps, ControlPlaneEvents, ControlPlaneOptions, ControlPlaneStatus, Decision } from './types.ts';
export { ANNOUNCE_EVERY_MS, REDIS_KEYS } from './shared.ts';

/**
 * The control plane of one instance: where the supergraph comes from (a file, HTTP URLs with
 * mirrors, a Redis push), the last good one on disk for cold starts, and the canary that puts a
 * new one in front of a share of requests first and promotes or rolls it back — the same way on
 * every instance, through Redis. With only a file configured it is today's file manager: new
 * versions swap in at once, a bad one is refused and the last good one keeps serving.
 */

/** How often a running canary is judged besides on each of its requests, ms. */
const JUDGE_EVERY_MS = 500;

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
    stable = extend(v, { since });
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
    cache.keep({ sdl: s.sdl, hash: s.hash, source: s.source, since: s.since.toISOString() }, (reason) =>
      log.warn({ event: 'supergraph_cache', outcome: 'failure', dir: cache.dir, reason }, `cannot write the supergraph cache in ${cache.dir} (PORTICO_SUPERGRAPH_CACHE_DIR): ${reason}`),
    );
  }

  function announce(): void {
    if (!stable) return;
    const entry = { hash: stable.hash, since: stable.since.toISOString(), source: stable.source, canary: canary ? { hash: canary.version.hash, percent: options.canary.percent } : null, at: new Date().toISOString() };
    announceServing(redis, options.instanceId, entry);
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
      // Decided by another instance before this one saw the version: it follows, and says so.
      rejected.add(v.hash);
      lastDecision = shared;
      reject(v, `rolled back by ${shared.by}: ${shared.reason}`);
      return 'failure';
    }
    if (options.canary.percent <= 0 || shared?.decision === 'promoted') {
      try {
        swapStable(v);
        if (shared) lastDecision = shared;
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
    try {
      d = await recordDecision(redis, d);
    } catch (err) {
      // Redis down: this instance decides alone; the others judge their own canary.
      log.warn({ event: 'canary_decision_unshared', hash: d.hash, reason: firstLine(err) }, 'canary decision not shared: Redis unavailable');
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
      const stats = { stable: laneSummary(c.stable), canary: laneSummary(c.canary) };
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

  const sharedDecision = (hash: string) => readDecision(redis, hash);

  /** An admin's verdict on the running canary; another instance's earlier decision wins. */
  async function adminDecision(c: RunningCanary, decision: Decision['decision'], reason: string) {
    const d = await decide(c, decision, reason, `admin@${options.instanceId}`);
    return { ok: d.decision === decision, message: `${d.hash} ${d.decision} (${d.by}): ${d.reason}` };
  }

  async function latestPushed() {
    if (!redis) return undefined;
    try {
      const v = await readLatestPushed(redis);
      if (v) deps.onFetch?.('redis', v.hash === stable?.hash ? 'unchanged' : 'changed');
      return v;
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

  /** Raw text from a watched file change, after the first supergraph. */
  function onFileChange(raw: string): void {
    if (!stable) return;
    // Without a canary it is swapped in synchronously and a throw reaches the file manager, which
    // logs the rejection; with one it is queued.
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
  }

  let fileCleanup: (() => Promise<void>) | undefined;

  const manager: SupergraphManager = {
    async initialize(hooks) {
      update = hooks.update;
      const pushed = redis && options.push ? { redis, latest: latestPushed } : undefined;
      const fileStart = file ? { manager: file, source: fileSource!, onChange: onFileChange } : undefined;
      const first = await firstSupergraph({ http, pushed, file: fileStart, cache }, { log, onFetch: deps.onFetch });
      fileCleanup = first.cleanup;
      stable = extend(first.version, { since: first.since ?? new Date() });
      log.info({ event: 'supergraph_loaded', hash: stable.hash, source: stable.source }, `supergraph ${stable.hash} from ${stable.source}`);
      if (!first.version.source.startsWith('cache:')) persist();
      http?.start();
      if (redis) {
        subscription = followDeployment(redis, options.push, {
          onPublished: () => void catchUp(false),
          onDecision: (hash) => void sharedDecision(hash).then((d) => d && apply(d)),
          onSubscribed: () => {
            subscribed = true;
            // Whatever was published while this instance was away, and any decision it missed.
            if (options.push) void catchUp(true);
            if (canary) void sharedDecision(canary.version.hash).then((d) => d && apply(d));
          },
        });
        announceTimer = setInterval(announce, ANNOUNCE_EVERY_MS);
        announceTimer.unref();
      }
      return {
        supergraphSdl: prepareForGateway(stable.sdl),
        cleanup: () => stop(),
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
    await withdrawServing(redis, options.instanceId);
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
      const sources = {
        file: fileSource ?? null,
        http: http?.status() ?? [],
        push: redis && options.push ? { subscribed, lastReceived: lastPushed ?? null } : null,
        cache: cache ? { dir: cache.dir, ...cache.state() } : null,
      };
      return statusView({ stable, canary, percent: options.canary.percent, lastDecision, sources }, now());
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
      return adminDecision(c, 'promoted', 'promoted by an admin');
    },
    async abort() {
      const c = canary;
      if (c && !c.deciding) return adminDecision(c, 'rolled-back', 'aborted by an admin');
      if (!stable || !previous) return { ok: false, message: 'no canary is running and no earlier supergraph to roll back to' };
      const s = stable;
      const d: Decision = { hash: s.hash, decision: 'rolled-back', reason: `rolled back to ${previous.hash} by an admin`, at: new Date().toISOString(), by: `admin@${options.instanceId}` };
      await overrideDecision(redis, d);
      await apply(d);
      return { ok: true, message: `${d.hash} rolled back; serving ${stable.hash}` };
    },
    stop,
  };
}

