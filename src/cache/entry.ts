import { createHash } from 'node:crypto';
import type { CacheScope, FreshnessPolicy } from './policy.ts';
import { lifetimes } from './policy.ts';

/**
 * One cached value and its life, as the two levels keep it, and the keys it is found under.
 * Pure.
 */

export interface CacheEntry {
  /** When the fetch that produced it was sent, epoch ms (invalidations compare with this). */
  readonly at: number;
  readonly freshUntil: number;
  readonly swrUntil: number;
  /** Past this it is gone (also its TTL in either level). */
  readonly staleUntil: number;
  readonly scope: CacheScope;
  /** The value as JSON text: parsed per use, since the gateway mutates what a fetch returns. */
  readonly value: string;
}

export function makeEntry(policy: FreshnessPolicy, at: number, value: string): CacheEntry {
  return { at, ...lifetimes(policy, at), scope: policy.scope, value };
}

/** `at,fresh,swr,stale,private\n<value>`: one line of numbers in front of the JSON, no re-encoding of the value. */
export function encodeEntry(e: CacheEntry): string {
  return `${e.at},${e.freshUntil},${e.swrUntil},${e.staleUntil},${e.scope === 'PRIVATE' ? 1 : 0}\n${e.value}`;
}

/** `undefined` for anything that is not an encoded entry (a foreign or truncated value is a miss). */
export function decodeEntry(text: string | null | undefined): CacheEntry | undefined {
  if (!text) return undefined;
  const nl = text.indexOf('\n');
  if (nl < 0) return undefined;
  const parts = text.slice(0, nl).split(',');
  if (parts.length !== 5) return undefined;
  const [at, freshUntil, swrUntil, staleUntil] = parts.slice(0, 4).map(Number) as [number, number, number, number];
  if (![at, freshUntil, swrUntil, staleUntil].every(Number.isFinite)) return undefined;
  return { at, freshUntil, swrUntil, staleUntil, scope: parts[4] === '1' ? 'PRIVATE' : 'PUBLIC', value: text.slice(nl + 1) };
}

/**
 * Who an entry may be served to. `public` entries are shared by every caller; `private` ones
 * belong to one verified subject (and the identity headers sent for it). Anonymous callers have
 * no private identity: a private answer fetched for them is never kept.
 */
export interface Audience {
  /** Values of the identity headers a subgraph said it varies on (`Vary`), part of every key. */
  readonly vary: string;
  /** Verified subject plus every identity header sent; undefined for anonymous callers. */
  readonly privateId: string | undefined;
}

/** Representations longer than this are hashed in the key: keys stay short whatever `@requires` adds. */
const MAX_PLAIN_ITEM_CHARS = 128;

/**
 * The common part of the keys of one fetch: `portico:cache:{<subgraph>:<group>}:<sha1>:`. The
 * hash tag keeps a fetch's entries in one Cluster slot (one MGET); the digest covers the fetch
 * scope (group, fetch document, variables other than the representations), the vary values and,
 * for private entries, the identity. Computed once per fetch (and memoised by the caller), not
 * once per entity: only {@link itemKeyPart} is per entity.
 */
export function keyPrefix(prefix: string, breakerKey: string, scope: string, audience: Audience, kind: CacheScope): string {
  const who = kind === 'PRIVATE' ? `private:${audience.privateId ?? ''}` : 'public';
  const digest = createHash('sha1').update(scope).update('\u0000').update(audience.vary).update('\u0000').update(who).digest('base64url');
  return `${prefix}{${breakerKey}}:${digest}:`;
}

/** The per-entity end of a key: the representation's JSON (`{"__typename":"Product","id":"7"}`), hashed when long; empty for a root fetch. */
export function itemKeyPart(representation: unknown): string {
  const json = JSON.stringify(representation) ?? '';
  return json.length <= MAX_PLAIN_ITEM_CHARS ? json : `#${createHash('sha1').update(json).digest('base64url')}`;
}
