import type { RedisClient } from './client.ts';

/**
 * Pub/sub for whoever needs a push (the control plane's supergraph channel): a subscriber
 * connection of its own (a subscribed connection can run nothing else), duplicated from the one
 * client so it reaches the same Redis, Sentinel group or Cluster with the same reconnect policy.
 * ioredis re-subscribes after a reconnect; `onSubscribed` runs after every (re)subscription, so
 * the caller can catch up on what it missed while disconnected.
 */

export interface RedisSubscriptionHandlers {
  readonly onMessage: (channel: string, message: string) => void;
  /** After the first subscription and after every reconnect. */
  readonly onSubscribed: () => void;
}

export interface RedisSubscription {
  /** Idempotent. */
  close(): Promise<void>;
}

export function subscribeChannels(client: RedisClient, channels: readonly string[], handlers: RedisSubscriptionHandlers): RedisSubscription {
  const sub = client.duplicate();
  let closed = false;
  sub.on('message', (channel: string, message: string) => handlers.onMessage(channel, message));
  // Errors are the reconnect loop's business (and the main client already logs them).
  sub.on('error', () => undefined);
  sub.on('ready', () => {
    if (closed) return;
    sub.subscribe(...channels).then(() => handlers.onSubscribed(), () => undefined);
  });
  sub.connect().catch(() => undefined);
  // The shared client is lazy; the caller reads from it right after subscribing.
  ensureConnecting(client);
  return {
    async close() {
      if (closed) return;
      closed = true;
      await sub.quit().catch(() => sub.disconnect());
    },
  };
}

/** Starts the lazy client's connection if nobody has yet (never throws; it reconnects by itself). */
export function ensureConnecting(client: RedisClient): void {
  if (client.status === 'wait') client.connect().catch(() => undefined);
}

/** Resolves once the client is ready, false after `timeoutMs`. */
export function whenReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  ensureConnecting(client);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    client.once('ready', onReady);
  });
}
