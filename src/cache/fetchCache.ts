import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { DocumentNode } from 'graphql';
import { staleScope } from '../degradation/staleKeys.ts';
import type { PorticoContext } from '../request/context.ts';
import { itemKeyPart, keyPrefix, makeEntry, type Audience, type CacheEntry } from './entry.ts';
import type { InvalidationMarks } from './invalidation.ts';
import { freshnessAt, freshnessOf, notePart, parseCacheControl, type PolicySettings } from './policy.ts';
import type { MemoryTier, SharedTier } from './tiers.ts';
import type { CacheableFetch, CacheObserver, Fetcher, FetchOutcome } from './types.ts';
import { extend } from '../runtime/objects.ts';

export type { CacheableFetch, Fetcher, FetchOutcome } from './types.ts';

/**
 * The per-fetch cache: an `_entities` fetch is split per representation into hits and misses,
 * only the misses are sent, and the answers are merged back in order; a root-field fetch is kept
 * whole. Values come from L1, else L2; an entry past its max-age but within its
 * stale-while-revalidate window is served at once and refreshed in the background by one caller
 * across all instances (a short Redis lock); one within its stale-if-error window is handed to
 * the fetch as its fallback, served only when the subgraph fails.
 */

/** Redis prefix of cache entries (their locks add `:lock`). */
export const CACHE_KEY_PREFIX = 'portico:cache:';
/** A background refresh holds its lock this long at most (less for shorter max-ages), ms. */
export const REVALIDATION_LOCK_MS = 10_000;
/** Key prefixes remembered per fetch scope and audience; past this the memo starts again (a bound, not a tuning knob). */
const MAX_MEMOISED_PREFIXES = 10_000;
/**
 * Clean answers in a row (data, no errors) that no TTL applied to, after which a fetch document's
 * lookups are skipped: nothing was stored for it, so L1 and Redis can only miss, and the MGET
 * per fetch was ~7 % of the gateway's CPU on subgraphs that send no hints. The first answer with
 * a TTL turns lookups back on; failed fetches and error answers never count, so a failing
 * subgraph still finds its stale-if-error values.
 */
export const UNCACHEABLE_STREAK = 8;

export interface FetchCacheOptions {
  readonly policy: PolicySettings;
}

export interface FetchCacheDeps {
  readonly l1: MemoryTier;
  readonly l2: SharedTier | undefined;
  readonly marks: InvalidationMarks;
  readonly observer: CacheObserver;
  /** Epoch ms; injected for tests. */
  readonly now?: () => number;
}

export interface FetchCache {
  /** Answers a query fetch from the cache where it can, sending only what is missing. */
  fetch(f: CacheableFetch, ctx: PorticoContext, headers: Readonly<Record<string, string>>, identityKey: string, send: Fetcher): Promise<GatewayGraphQLResponse>;
}

interface Slot {
  entry: CacheEntry | undefined;
  key: string | undefined;
}

/** Background refreshes of one fetch (scope and identity) gathered from several requests: sent as one call. */
interface RefreshBatch {
  readonly f: CacheableFetch;
  readonly scope: string;
  /** The first asker's: every asker in a batch has the same identity and vary values. */
  readonly audience: () => Audience;
  readonly send: Fetcher;
  readonly keys: string[];
  readonly reps: unknown[];
  readonly items: string[];
  readonly types: string[];
  maxAgeMs: number;
}

export function createFetchCache(options: FetchCacheOptions, deps: FetchCacheDeps): FetchCache {
  const now = deps.now ?? Date.now;
  const { l1, l2, marks, observer } = deps;
  /** Identity headers each field group's subgraph said it varies on (`Vary`), learned from its answers. */
  const varyBy = new Map<string, string[]>();
  /** Keys this instance is refreshing now: one background refresh per entry per instance. */
  const refreshing = new Set<string>();
  /**
   * Key prefix per fetch scope, audience and scope kind: the one digest a fetch's keys share,
   * hashed once per distinct fetch rather than once per entity per request.
   */
  const prefixes = new Map<string, string>();
  /** Clean answers in a row without a TTL, per fetch document (the plan's, so it goes with the plan). */
  const uncacheable = new WeakMap<DocumentNode, number>();
  function prefixOf(f: CacheableFetch, scope: string, audience: Audience, kind: 'PUBLIC' | 'PRIVATE'): string {
    const memoKey = `${kind === 'PRIVATE' ? audience.privateId : ''}\u0000${audience.vary}\u0000${kind}\u0000${scope}`;
    let p = prefixes.get(memoKey);
    if (p === undefined) {
      if (prefixes.size >= MAX_MEMOISED_PREFIXES) prefixes.clear();
      p = keyPrefix(CACHE_KEY_PREFIX, f.key, scope, audience, kind);
      prefixes.set(memoKey, p);
    }
    return p;
  }

  function audienceOf(f: CacheableFetch, ctx: PorticoContext, headers: Readonly<Record<string, string>>, identityKey: string): Audience {
    const names = varyBy.get(f.key);
    const vary = names ? names.map((n) => `${n}=${headers[n] ?? ''}`).join('\u0000') : '';
    const privateId = ctx.principal.kind === 'user' ? `${ctx.principal.subject}\u0000${identityKey}` : undefined;
    return { vary, privateId };
  }

  function learnVary(f: CacheableFetch, header: string | undefined): void {
    // Nothing said and nothing known (the common case): done without splitting and sorting.
    if (!header && !varyBy.has(f.key)) return;
    const names = (header ?? '')
      .split(',')
      .map((n) => n.trim().toLowerCase())
      .filter((n) => n && n !== 'accept-encoding' && n !== 'origin')
      .sort();
    const known = varyBy.get(f.key);
    if (names.length === 0 && !known) return;
    if (known && known.join(',') === names.join(',')) return;
    varyBy.set(f.key, names);
  }

  /**
   * Finds each item in L1, then L2: the newest usable of its public and (for a subject) private
   * entry. An L1 hit that is fresh costs no Redis command; only what L1 lacks (or holds past its
   * max-age, which another instance may have refreshed) is asked for, in one MGET.
   */
  async function lookup(f: CacheableFetch, scope: string, items: readonly string[], audience: Audience, reps: readonly unknown[]): Promise<Slot[]> {
    const t = now();
    const publicPrefix = prefixOf(f, scope, audience, 'PUBLIC');
    const privatePrefix = audience.privateId !== undefined ? prefixOf(f, scope, audience, 'PRIVATE') : undefined;
    const candidates = items.map((item) => (privatePrefix === undefined ? [publicPrefix + item] : [publicPrefix + item, privatePrefix + item]));
    const latestMark = marks.latest;
    const usable = (entry: CacheEntry | undefined, i: number): entry is CacheEntry => {
      if (!entry || entry.staleUntil <= t) return false;
      // Written after every mark there is: nothing can cover it (the common case, checked without allocating).
      if (entry.at >= latestMark) return true;
      const rep = reps[i] as Record<string, unknown> | undefined;
      return !marks.covers({ subgraph: f.subgraph, kind: f.kind, typename: rep?.__typename as string | undefined, representation: rep, at: entry.at });
    };
    // The L1 pass runs for every entity of every fetch: plain loops, one slot object per entity.
    const slots: Slot[] = new Array<Slot>(candidates.length);
    for (let i = 0; i < candidates.length; i++) {
      const slot: Slot = { entry: undefined, key: undefined };
      for (const k of candidates[i]!) {
        const entry = l1.get(k);
        if (usable(entry, i) && (!slot.entry || entry.at > slot.entry.at)) {
          slot.entry = entry;
          slot.key = k;
        }
      }
      slots[i] = slot;
    }
    // Anything not fresh here may have been refreshed by another instance: ask Redis too.
    const missing = slots.flatMap((s, i) => (s.entry && freshnessAt(s.entry, t) === 'fresh' ? [] : [i]));
    if (l2 && missing.length > 0) {
      const keys = missing.flatMap((i) => candidates[i]!);
      const { entries, failed } = await l2.getMany(keys);
      if (failed) observer.sharedError(f.subgraph);
      let at = 0;
      for (const i of missing) {
        const found = candidates[i]!.map((k) => ({ key: k, entry: entries[at++] })).filter((s) => usable(s.entry, i));
        const best = pickNewest([...found, slots[i]!].filter((s) => s.entry));
        if (best.entry && best.entry !== slots[i]!.entry) l1.set(best.key!, best.entry, t);
        slots[i] = best;
      }
    }
    return slots;
  }

  /**
   * Keeps good values of a fetch answered by the subgraph; returns the part it adds to the
   * response. `scope` and `items` are asked for only when the answer is kept.
   */
  function store(f: CacheableFetch, scopeOf: () => string, outcome: FetchOutcome, itemsOf: () => readonly string[], audienceNow: () => Audience, sentAt: number, typeOf: (i: number) => string): { maxAgeS: number; scope: 'PUBLIC' | 'PRIVATE' } | undefined {
    learnVary(f, outcome.vary);
    // Keyed by what this very answer says it varies on, never by what was known before it.
    const audience = audienceNow();
    const policy = freshnessOf(parseCacheControl(outcome.cacheControl), options.policy, f.subgraph, f.group);
    if (!policy) {
      if (!outcome.response.errors?.length && outcome.response.data) uncacheable.set(f.document, (uncacheable.get(f.document) ?? 0) + 1);
      return undefined;
    }
    uncacheable.delete(f.document);
    // A private answer for nobody in particular is never kept: it would have no owner to go back to.
    if (policy.scope === 'PRIVATE' && audience.privateId === undefined) return policy;
    const response = outcome.response;
    if (response.errors?.length || !response.data) return undefined;
    const values: (unknown | null)[] = f.kind === 'entity' ? ((response.data as { _entities?: unknown[] })._entities ?? []) : [response.data];
    const items = itemsOf();
    const scope = scopeOf();
    const writes: [string, CacheEntry][] = [];
    const t = now();
    const prefix = prefixOf(f, scope, audience, policy.scope);
    // Bytes per type, counted once per fetch rather than one metric update per entity.
    const bytes = new Map<string, number>();
    values.forEach((v, i) => {
      if (v === null || v === undefined || i >= items.length) return;
      // Serialized now, on the response path: the gateway merges (and so mutates) these very
      // objects into the response as soon as this returns.
      const text = JSON.stringify(v);
      const entry = makeEntry(policy, sentAt, text);
      const key = prefix + items[i]!;
      l1.set(key, entry, t);
      writes.push([key, entry]);
      const type = typeOf(i);
      bytes.set(type, (bytes.get(type) ?? 0) + text.length);
    });
    for (const [type, n] of bytes) observer.stored(f.subgraph, type, n);
    // The Redis write waits for nobody: it is built and sent after this request's answer is on its way.
    if (l2 && writes.length) setImmediate(() => void l2.setMany(writes, t).then((ok) => ok || observer.sharedError(f.subgraph)));
    return policy;
  }

  /** One miss per position, counted per type (a fetch's entities are nearly always of one). */
  function countMisses(f: CacheableFetch, entities: number, typeOf: (i: number) => string): void {
    if (f.kind === 'root') return observer.lookup(f.subgraph, f.group, 'miss', 1);
    const counts = new Map<string, number>();
    for (let i = 0; i < entities; i++) counts.set(typeOf(i), (counts.get(typeOf(i)) ?? 0) + 1);
    for (const [type, n] of counts) observer.lookup(f.subgraph, type, 'miss', n);
  }

  /** Refreshes waiting for the next turn of the event loop, by what their request would be. */
  const batches = new Map<string, RefreshBatch>();

  /**
   * Background refresh of these positions, by one caller across all instances. They are claimed
   * on this instance at once, and joined with every other refresh of the same fetch (scope and
   * identity) asked for in this turn of the event loop: one subgraph call for all of them,
   * started after the current answers are on their way (nobody waits for it).
   */
  function revalidate(f: CacheableFetch, scope: string, identityKey: string, slots: readonly Slot[], positions: number[], reps: readonly unknown[], items: readonly string[], audience: () => Audience, send: Fetcher, typeOf: (i: number) => string): void {
    const who = audience();
    const batchKey = `${scope}\u0000${identityKey}\u0000${who.vary}\u0000${who.privateId ?? ''}`;
    let batch = batches.get(batchKey);
    for (const i of positions) {
      const { key, entry } = slots[i]!;
      if (refreshing.has(key!)) continue;
      refreshing.add(key!);
      if (!batch) {
        const created: RefreshBatch = (batch = { f, scope, audience, send, keys: [], reps: [], items: [], types: [], maxAgeMs: Infinity });
        batches.set(batchKey, created);
        setImmediate(() => {
          batches.delete(batchKey);
          void refresh(created).finally(() => {
            for (const k of created.keys) refreshing.delete(k);
          });
        });
      }
      batch.keys.push(key!);
      batch.reps.push(reps[i]);
      batch.items.push(items[i]!);
      batch.types.push(typeOf(i));
      batch.maxAgeMs = Math.min(batch.maxAgeMs, entry!.freshUntil - entry!.at);
    }
  }

  async function refresh(b: RefreshBatch): Promise<void> {
    let won = b.keys.map((_, j) => j);
    if (l2) {
      // Held until it expires, never released: a caller that read Redis just before the refresh
      // landed must not win a freed lock and refresh again. It lasts as long as an entry stays
      // fresh (capped), so the next expiry can be refreshed again.
      const locks = await l2.lockMany(b.keys, Math.max(1_000, Math.min(REVALIDATION_LOCK_MS, b.maxAgeMs)));
      won = won.filter((j) => locks[j]);
    }
    if (won.length === 0) return;
    const { f } = b;
    const sentAt = now();
    try {
      const variables = f.kind === 'entity' ? extend(f.variables, { representations: won.map((j) => b.reps[j]) }) : f.variables;
      const outcome = await b.send(variables, { fallback: [], background: true });
      if (outcome.failed) {
        observer.revalidation(f.subgraph, b.types[won[0]!]!, 'failure');
        return;
      }
      store(f, () => b.scope, outcome, () => won.map((j) => b.items[j]!), b.audience, sentAt, (k) => b.types[won[k]!]!);
      observer.revalidation(f.subgraph, b.types[won[0]!]!, 'success');
    } catch {
      observer.revalidation(f.subgraph, b.types[won[0]!]!, 'failure');
    }
  }

  return {
    async fetch(f, ctx, headers, identityKey, send) {
      const note = ctx.cacheNote;
      const reps: unknown[] = f.kind === 'entity' ? ((f.variables?.representations ?? []) as unknown[]) : [];
      // Made when first needed: a fetch whose lookups are skipped needs neither unless its answer is kept.
      let scopeMemo: string | undefined;
      const scopeOf = () => (scopeMemo ??= staleScope(f.key, f.document, f.query, f.variables));
      // Per entity only its representation; the rest of the key is the fetch's shared prefix.
      let itemsMemo: string[] | undefined;
      const itemsOf = () => (itemsMemo ??= f.kind === 'entity' ? reps.map(itemKeyPart) : ['']);
      const typeOf = (i: number) => (f.kind === 'entity' ? String((reps[i] as { __typename?: unknown })?.__typename ?? f.group) : f.group);
      const audience = () => audienceOf(f, ctx, headers, identityKey);
      if ((uncacheable.get(f.document) ?? 0) >= UNCACHEABLE_STREAK && (f.kind === 'root' || reps.length > 0)) {
        // Nothing can be found: every position is a miss, and no value stands by for a failure.
        countMisses(f, reps.length, typeOf);
        const sentAt = now();
        const outcome = await send(f.variables, { fallback: [], background: false });
        const part = outcome.failed ? undefined : store(f, scopeOf, outcome, itemsOf, audience, sentAt, typeOf);
        if (note) notePart(note, part);
        return outcome.response;
      }
      const slots = await lookup(f, scopeOf(), itemsOf(), audience(), reps);
      const t = now();

      const hits: number[] = [];
      const misses: number[] = [];
      const toRefresh: number[] = [];
      // Counted per fetch, not per entity: one metric update per type and result.
      const counts = new Map<string, [hit: number, stale: number, miss: number]>();
      const count = (i: number, result: 0 | 1 | 2) => {
        const type = typeOf(i);
        let c = counts.get(type);
        if (!c) counts.set(type, (c = [0, 0, 0]));
        c[result]++;
      };
      slots.forEach((s, i) => {
        const state = s.entry ? freshnessAt(s.entry, t) : 'expired';
        if (state === 'fresh' || state === 'revalidate') {
          hits.push(i);
          if (state === 'revalidate') toRefresh.push(i);
          count(i, state === 'fresh' ? 0 : 1);
        } else {
          misses.push(i);
          count(i, 2);
        }
      });
      for (const [type, [hit, stale, miss]] of counts) {
        if (hit) observer.lookup(f.subgraph, type, 'hit', hit);
        if (stale) observer.lookup(f.subgraph, type, 'stale', stale);
        if (miss) observer.lookup(f.subgraph, type, 'miss', miss);
      }
      for (const i of hits) {
        const e = slots[i]!.entry!;
        if (note) notePart(note, { maxAgeS: Math.max(0, Math.floor((e.freshUntil - t) / 1_000)), scope: e.scope });
      }
      if (toRefresh.length) revalidate(f, scopeOf(), identityKey, slots, toRefresh, reps, itemsOf(), audience, send, typeOf);

      if (misses.length === 0) {
        if (f.kind === 'root') return { data: JSON.parse(slots[0]!.entry!.value) as Record<string, unknown> };
        return { data: { _entities: slots.map((s) => JSON.parse(s.entry!.value) as unknown) } };
      }

      // Only what is missing is sent; what is still within stale-if-error stands by.
      const fallback = misses.map((i) => slots[i]!.entry?.value);
      const variables = f.kind === 'entity' && hits.length > 0 ? extend(f.variables, { representations: misses.map((i) => reps[i]) }) : f.variables;
      const sentAt = now();
      const outcome = await send(variables, { fallback, background: false });
      if (outcome.failed) {
        if (note) notePart(note, undefined);
        fallback.forEach((v, j) => v !== undefined && observer.staleIfError(f.subgraph, typeOf(misses[j]!)));
      } else {
        const part = store(f, scopeOf, outcome, () => misses.map((i) => itemsOf()[i]!), audience, sentAt, (j) => typeOf(misses[j]!));
        if (note) notePart(note, part);
      }
      if (hits.length === 0 || f.kind === 'root') return outcome.response;
      return merge(slots, misses, outcome.response);
    },
  };
}

function pickNewest(slots: readonly Slot[]): Slot {
  let best: Slot = { entry: undefined, key: undefined };
  for (const s of slots) if (s.entry && (!best.entry || s.entry.at > best.entry.at)) best = s;
  return best;
}

/**
 * The answer for every representation: cached values where there were hits, the subgraph's for
 * the rest, in the original order; the subgraph's error paths (`_entities.<i>`) renumbered to it.
 */
function merge(slots: readonly Slot[], misses: readonly number[], fetched: GatewayGraphQLResponse): GatewayGraphQLResponse {
  const got = (fetched.data as { _entities?: unknown[] } | null | undefined)?._entities;
  const missed = new Set(misses);
  const entities: unknown[] = slots.map((s, i) => (missed.has(i) ? null : (JSON.parse(s.entry!.value) as unknown)));
  misses.forEach((i, j) => (entities[i] = got?.[j] ?? null));
  const errors = fetched.errors?.map((e) => {
    const path = e.path;
    if (!path || path[0] !== '_entities' || typeof path[1] !== 'number') return e;
    return extend(e, { path: ['_entities', misses[path[1]] ?? path[1], ...path.slice(2)] });
  });
  return extend(fetched, { data: extend(fetched.data, { _entities: entities }), ...(errors ? { errors } : {}) });
}
