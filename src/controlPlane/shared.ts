import { subscribeChannels, type RedisClient, type RedisSubscription } from '../redis/index.ts';
import { sdlHash } from '../supergraph/fileSupergraphManager.ts';
import type { Decision, SupergraphVersion } from './types.ts';

/**
 * What the instances of one deployment share through Redis: the latest pushed supergraph, the
 * canary decisions (the first instance to decide wins, every other one follows) and who serves
 * what. Each helper is one Redis conversation; the caller decides what a Redis failure means.
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

const usable = (redis: RedisClient | undefined): redis is RedisClient => redis !== undefined && redis.status === 'ready';

/** The decision another instance (or an admin) recorded for `hash`; undefined when none or Redis is unavailable. */
export async function readDecision(redis: RedisClient | undefined, hash: string): Promise<Decision | undefined> {
  if (!usable(redis)) return undefined;
  try {
    const raw = await redis.get(REDIS_KEYS.decisionPrefix + hash);
    return raw ? (JSON.parse(raw) as Decision) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records `d` unless another instance decided first (SET NX) and returns the decision that won.
 * Without a usable Redis `d` wins locally; a Redis error is thrown for the caller to log.
 */
export async function recordDecision(redis: RedisClient | undefined, d: Decision): Promise<Decision> {
  if (!usable(redis)) return d;
  const set = await redis.set(REDIS_KEYS.decisionPrefix + d.hash, JSON.stringify(d), 'EX', DECISION_TTL_S, 'NX');
  if (set === 'OK') {
    await redis.publish(REDIS_KEYS.decisions, d.hash);
    return d;
  }
  return (await readDecision(redis, d.hash)) ?? d;
}

/** An admin's rollback of a promoted version overrides whatever was decided before; best effort. */
export async function overrideDecision(redis: RedisClient | undefined, d: Decision): Promise<void> {
  if (!usable(redis)) return;
  await redis.set(REDIS_KEYS.decisionPrefix + d.hash, JSON.stringify(d), 'EX', DECISION_TTL_S).catch(() => undefined);
  await redis.publish(REDIS_KEYS.decisions, d.hash).catch(() => undefined);
}

/** The latest pushed supergraph, undefined when nothing was pushed; throws on a Redis error or a malformed document. */
export async function readLatestPushed(redis: RedisClient): Promise<(SupergraphVersion & { publishedAt: number }) | undefined> {
  const raw = await redis.get(REDIS_KEYS.latest);
  if (!raw) return undefined;
  const doc = JSON.parse(raw) as { sdl?: unknown; publishedAt?: unknown };
  if (typeof doc.sdl !== 'string') throw new Error('no sdl field');
  const publishedAt = typeof doc.publishedAt === 'string' ? Date.parse(doc.publishedAt) : NaN;
  return { sdl: doc.sdl, hash: sdlHash(doc.sdl), source: 'redis', publishedAt: Number.isNaN(publishedAt) ? 0 : publishedAt };
}

/** What this instance serves, for `npm run supergraph -- status`; fire and forget. */
export function announceServing(redis: RedisClient | undefined, instanceId: string, entry: object): void {
  if (!usable(redis)) return;
  redis.hset(REDIS_KEYS.instances, instanceId, JSON.stringify(entry)).catch(() => undefined);
}

/** Leaving: the status listing drops this instance at once rather than after 3 announce periods. */
export async function withdrawServing(redis: RedisClient | undefined, instanceId: string): Promise<void> {
  if (!usable(redis)) return;
  await redis.hdel(REDIS_KEYS.instances, instanceId).catch(() => undefined);
}

/**
 * Listens for what other instances decide (always) and, with `push`, for newly published
 * supergraphs. `onSubscribed` runs after every (re)subscription: the moment to catch up on
 * whatever was said while this instance was not listening.
 */
export function followDeployment(
  redis: RedisClient,
  push: boolean,
  on: { readonly onPublished: () => void; readonly onDecision: (hash: string) => void; readonly onSubscribed: () => void },
): RedisSubscription {
  const channels = push ? [REDIS_KEYS.published, REDIS_KEYS.decisions] : [REDIS_KEYS.decisions];
  return subscribeChannels(redis, channels, {
    onMessage: (channel, hash) => (channel === REDIS_KEYS.published ? on.onPublished() : on.onDecision(hash)),
    onSubscribed: on.onSubscribed,
  });
}

/** The first non-empty line of an error, bounded: what logs and `/status` show as a reason. */
export function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n').find((l) => l.trim() !== '')?.trim().slice(0, 300) ?? 'invalid supergraph';
}
