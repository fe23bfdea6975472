import type { RedisClient } from './client.ts';

/**
 * Loads a Lua script into the script cache of every primary the client talks to: the one Redis
 * (or Sentinel's current primary), or each Cluster primary, since EVALSHA runs on the node owning
 * its key and each node has its own cache. Nodes that join later (a failover, a reshard) answer
 * NOSCRIPT once and the caller falls back to EVAL, which caches it there. Never rejects: a failed
 * load means a failed connection, which the caller notices on its own.
 */
export async function loadScriptEverywhere(redis: RedisClient, lua: string): Promise<void> {
  const targets = redis.isCluster && 'nodes' in redis ? redis.nodes('master') : [redis];
  await Promise.all(targets.map((node) => node.script('LOAD', lua).catch(() => undefined)));
}
