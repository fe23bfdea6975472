/**
 * How many gateway instances share a quota while Redis is gone: the pure part of the live
 * instance count (`instances.ts` does the Redis I/O). Unit-tested without Redis or timers.
 */

/**
 * One instance's share of `limit` while limits are not shared: max(1, floor(limit / instances)).
 * Rounding down keeps the fleet's total at or under the quota (never above it unless the limit is
 * smaller than the fleet, where each instance still admits 1).
 */
export function fallbackShare(limit: number, instances: number): number {
  return Math.max(1, Math.floor(limit / Math.max(1, instances)));
}

/**
 * The count to keep after a heartbeat reply: the reply when it is a whole number ≥ 1 (this
 * instance has just announced itself, so it is at least 1), else the last good count.
 */
export function acceptLiveCount(previous: number, reply: unknown): number {
  const n = typeof reply === 'number' ? reply : typeof reply === 'string' ? Number(reply) : NaN;
  return Number.isInteger(n) && n >= 1 ? n : previous;
}

/**
 * A short, unique member name for this instance in the heartbeat set: host and pid for humans
 * reading ZRANGE, plus randomness so two limiters in one process (tests) stay distinct.
 */
export function instanceId(host: string, pid: number, random: () => number = Math.random): string {
  return `${host}:${pid}:${Math.floor(random() * 36 ** 6).toString(36).padStart(6, '0')}`;
}

/**
 * The count the fallback divides by. `floor` is the start-up value (PORTICO_RATE_LIMIT_INSTANCES),
 * or the count in force when the connection last came back; `msSettling` runs from the first
 * heartbeat answered since then. Until a heartbeat has answered: `floor`. For one heartbeat TTL
 * after that, the larger of the two: instances that started together (a rollout), or that all
 * reconnect to a blank restarted Redis, may not all have announced themselves yet, and
 * undercounting would hand out more than the quota. After a full TTL every live instance has
 * beaten at least once (they beat every interval < TTL), so the reported count alone is right,
 * smaller (scale-in) or larger (scale-out).
 */
export function liveCountInForce(floor: number, reported: number | undefined, msSettling: number, ttlMs: number): number {
  if (reported === undefined) return floor;
  return msSettling < ttlMs ? Math.max(floor, reported) : reported;
}
