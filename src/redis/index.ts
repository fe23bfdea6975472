/**
 * Redis, the one store shared by every gateway instance: the client and its connection policy
 * (`client.ts`), the per-command deadline for the request path (`deadline.ts`) and the APQ
 * key-value adapter (`keyValueCache.ts`). Rate limits, persisted queries and stale values all use
 * the one client `server.ts` builds with `createRedisClient`. A lower layer: imports nothing of
 * Portico's.
 */
export {
  createRedisClient,
  redisAddress,
  reconnectDelayMs,
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
  type RedisClient,
  type RedisClientDeps,
  type RedisClientOptions,
} from './client.ts';
export { withDeadline, RedisCommandTimeoutError } from './deadline.ts';
export { createRedisKeyValueCache } from './keyValueCache.ts';
export {
  parseRedisUrl,
  describeRedisTarget,
  RedisUrlError,
  REDIS_URL_FORMS,
  DEFAULT_SENTINEL_PORT,
  type RedisTarget,
  type RedisNodeAddress,
} from './url.ts';
export { loadScriptEverywhere } from './scripts.ts';
export { subscribeChannels, ensureConnecting, whenReady, type RedisSubscription, type RedisSubscriptionHandlers } from './pubsub.ts';
