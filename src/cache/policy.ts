import type { ResponseCacheNote } from '../request/context.ts';

/**
 * Freshness of a subgraph answer: what its `Cache-Control` header says (Apollo Server's cache
 * control plugin turns `@cacheControl(maxAge, scope)` hints into exactly this header), what
 * configuration overrides, and the windows an entry lives through. Pure.
 */

/** An expired entry is served at once and refreshed in the background for this long, s. */
export const DEFAULT_CACHE_SWR_S = 30;
/**
 * An entry past its stale-while-revalidate window still answers for this long when the subgraph
 * fails or its breaker is open, s: the same 5 minutes stale values always lived.
 */
export const DEFAULT_CACHE_STALE_IF_ERROR_S = 300;

export type CacheScope = 'PUBLIC' | 'PRIVATE';

/** What a subgraph answer's `Cache-Control` says; `undefined` fields were not given. */
export interface CacheHint {
  readonly maxAgeS: number | undefined;
  readonly scope: CacheScope;
  /** `no-store` / `no-cache`: never cached, whatever else the header says. */
  readonly noStore: boolean;
  readonly swrS: number | undefined;
  readonly staleIfErrorS: number | undefined;
}

/** How long one answer may be kept, once hint and overrides are combined. */
export interface FreshnessPolicy {
  readonly maxAgeS: number;
  readonly scope: CacheScope;
  readonly swrS: number;
  readonly staleIfErrorS: number;
}

const NO_HINT: CacheHint = Object.freeze({ maxAgeS: undefined, scope: 'PUBLIC', noStore: false, swrS: undefined, staleIfErrorS: undefined });

/**
 * Parses a `Cache-Control` response header (RFC 9111 directives, case-insensitive; unknown ones
 * ignored). `s-maxage` wins over `max-age`: the gateway is a shared cache.
 */
export function parseCacheControl(header: string | undefined): CacheHint {
  if (!header) return NO_HINT;
  let maxAge: number | undefined;
  let sMaxAge: number | undefined;
  let scope: CacheScope = 'PUBLIC';
  let noStore = false;
  let swrS: number | undefined;
  let staleIfErrorS: number | undefined;
  for (const part of header.split(',')) {
    const [rawName, rawValue] = part.split('=', 2) as [string, string | undefined];
    const name = rawName.trim().toLowerCase();
    const seconds = rawValue === undefined ? undefined : toSeconds(rawValue);
    switch (name) {
      case 'max-age':
        maxAge = seconds;
        break;
      case 's-maxage':
        sMaxAge = seconds;
        break;
      case 'private':
        scope = 'PRIVATE';
        break;
      case 'no-store':
      case 'no-cache':
        noStore = true;
        break;
      case 'stale-while-revalidate':
        swrS = seconds;
        break;
      case 'stale-if-error':
        staleIfErrorS = seconds;
        break;
      default:
        break;
    }
  }
  return { maxAgeS: sMaxAge ?? maxAge, scope, noStore, swrS, staleIfErrorS };
}

function toSeconds(raw: string): number | undefined {
  const v = raw.trim().replace(/^"|"$/g, '');
  return /^\d{1,9}$/.test(v) ? Number(v) : undefined;
}

export interface PolicySettings {
  /**
   * TTL overrides, s, by `subgraph`, `subgraph:Type` (entity fetches) or `subgraph:Query.field`
   * (root fetches); the most specific wins; 0 turns caching off for it.
   */
  readonly ttls: Readonly<Record<string, number>>;
  readonly swrS: number;
  readonly staleIfErrorS: number;
}

/**
 * The policy of one answer: the override for its group or subgraph if any, else the hint.
 * `undefined`: not cached (no TTL from either, `no-store`, or a TTL of 0). Nothing is cached
 * without a TTL from the subgraph or the configuration.
 */
export function freshnessOf(hint: CacheHint, settings: PolicySettings, subgraph: string, group: string): FreshnessPolicy | undefined {
  if (hint.noStore) return undefined;
  const { ttls } = settings;
  let override: number | undefined;
  // Without overrides (the default) no key is built: every subgraph fetch asks, and a key made
  // on the fly is hashed and looked up in V8's string table before the record is searched.
  for (const _ in ttls) {
    override = ttls[`${subgraph}:${group}`] ?? ttls[subgraph];
    break;
  }
  const maxAgeS = override ?? hint.maxAgeS;
  if (maxAgeS === undefined || maxAgeS <= 0) return undefined;
  return { maxAgeS, scope: hint.scope, swrS: hint.swrS ?? settings.swrS, staleIfErrorS: hint.staleIfErrorS ?? settings.staleIfErrorS };
}

/** Where an entry is in its life at `now`. */
export type Freshness = 'fresh' | 'revalidate' | 'stale-if-error' | 'expired';

/** The instants (epoch ms) an entry written at `at` under `policy` changes state. */
export function lifetimes(policy: FreshnessPolicy, at: number): { freshUntil: number; swrUntil: number; staleUntil: number } {
  const freshUntil = at + policy.maxAgeS * 1_000;
  const swrUntil = freshUntil + policy.swrS * 1_000;
  return { freshUntil, swrUntil, staleUntil: swrUntil + policy.staleIfErrorS * 1_000 };
}

export function freshnessAt(entry: { freshUntil: number; swrUntil: number; staleUntil: number }, now: number): Freshness {
  if (now < entry.freshUntil) return 'fresh';
  if (now < entry.swrUntil) return 'revalidate';
  if (now < entry.staleUntil) return 'stale-if-error';
  return 'expired';
}

/** Folds one part (a fetch answered from cache or from the subgraph) into the response's note. */
export function notePart(note: ResponseCacheNote, part: { maxAgeS: number; scope: CacheScope } | undefined): void {
  if (!part) {
    note.noStore = true;
    return;
  }
  note.maxAgeS = note.maxAgeS === undefined ? part.maxAgeS : Math.min(note.maxAgeS, part.maxAgeS);
  if (part.scope === 'PRIVATE') note.private = true;
}

/**
 * The `Cache-Control` of a GET response: `no-store` for mutations, errors, degraded answers and
 * any part without a TTL; otherwise the smallest max-age, `private` if any part was private.
 */
export function responseCacheControl(note: ResponseCacheNote | undefined, facts: { isQuery: boolean; hasErrors: boolean; degraded: boolean }): string {
  if (!note || !facts.isQuery || facts.hasErrors || facts.degraded || note.noStore || note.maxAgeS === undefined || note.maxAgeS <= 0) return 'no-store';
  return `max-age=${note.maxAgeS}, ${note.private ? 'private' : 'public'}`;
}
