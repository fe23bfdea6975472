import type { Logger } from '../logging/index.ts';
import { withDeadline, type RedisClient } from '../redis/index.ts';
import { parseMark, targetId, type InvalidationMarks, type InvalidationTarget } from './invalidation.ts';

/** Hash of every mark still relevant (field: target id, value: epoch ms). */
export const INVALIDATIONS_KEY = 'portico:cache:invalidations';
/** Channel a mark is announced on, so every instance applies it at once. */
export const INVALIDATIONS_CHANNEL = 'portico:cache:invalidate';

export interface InvalidationSync {
  /** Marks the target invalidated now, here and (with Redis) on every instance. */
  invalidate(target: InvalidationTarget): Promise<{ at: number; shared: boolean }>;
  stop(): Promise<void>;
}

/**
 * Carries invalidation marks to every instance: written to a Redis hash (read back whenever the
 * subscription connects, so an instance that was away catches up) and published for the ones
 * listening. Without Redis the marks are this instance's only.
 */
export function createInvalidationSync(marks: InvalidationMarks, deps: { redis: RedisClient | undefined; logger: Logger; commandTimeoutMs: number; maxEntryLifeMs: number }): InvalidationSync {
  const { redis, logger } = deps;
  const log = logger.child({ component: 'cache' });
  // Pub/sub needs a connection of its own: a subscribed connection runs no other command.
  const sub = redis?.duplicate();
  let stopped = false;

  async function catchUp(): Promise<void> {
    if (!redis || redis.status !== 'ready') return;
    try {
      const all = await withDeadline(redis.hgetall(INVALIDATIONS_KEY), deps.commandTimeoutMs * 20);
      const oldest = Date.now() - deps.maxEntryLifeMs;
      const expired: string[] = [];
      for (const [id, at] of Object.entries(all)) {
        const mark = parseMark(id, at);
        if (mark && mark.at >= oldest) marks.apply(mark);
        else expired.push(id);
      }
      if (expired.length) await redis.hdel(INVALIDATIONS_KEY, ...expired).catch(() => undefined);
      marks.prune(oldest);
    } catch (err) {
      log.warn({ event: 'cache_invalidations_read_failed', err: (err as Error).message }, 'could not read cache invalidations from Redis; retried when it reconnects');
    }
  }

  if (sub) {
    sub.on('message', (_channel: string, message: string) => {
      const nl = message.indexOf('\n');
      const mark = nl > 0 ? parseMark(message.slice(0, nl), message.slice(nl + 1)) : undefined;
      if (mark) marks.apply(mark);
    });
    sub.on('ready', () => {
      void sub.subscribe(INVALIDATIONS_CHANNEL).catch(() => undefined);
      void catchUp();
    });
    sub.on('error', () => undefined);
    sub.connect().catch(() => undefined);
    // The main client may not be connected by anyone else (rate limiting off).
    if (redis!.status === 'wait') redis!.connect().catch(() => undefined);
    redis!.on('ready', () => void catchUp());
  }

  return {
    async invalidate(target) {
      const at = Date.now();
      marks.apply({ target, at });
      if (!redis || redis.status !== 'ready') return { at, shared: false };
      const id = targetId(target);
      try {
        await withDeadline(redis.hset(INVALIDATIONS_KEY, id, String(at)), deps.commandTimeoutMs * 20);
        await withDeadline(redis.publish(INVALIDATIONS_CHANNEL, `${id}\n${at}`), deps.commandTimeoutMs * 20);
        return { at, shared: true };
      } catch {
        return { at, shared: false };
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await sub?.quit().catch(() => sub.disconnect());
    },
  };
}
