/**
 * Admin invalidation, pure: what was invalidated when, and whether an entry written at `at`
 * survives it. Entries are never searched for or deleted: every read checks them against these
 * marks, so one mark (kept in Redis and broadcast) reaches every instance and both levels.
 */

/** By subgraph; by entity type; or by type and key fields (`{"id": "p1"}`). */
export type InvalidationTarget =
  | { readonly by: 'subgraph'; readonly subgraph: string }
  | { readonly by: 'type'; readonly type: string }
  | { readonly by: 'key'; readonly type: string; readonly key: Readonly<Record<string, unknown>> };

export interface InvalidationMark {
  readonly target: InvalidationTarget;
  /** Epoch ms: entries whose fetch was sent before this are gone. */
  readonly at: number;
}

/** What an entry is, for the check: its subgraph, and its type and representation for entities. */
export interface EntryFacts {
  readonly subgraph: string;
  readonly kind: 'entity' | 'root';
  readonly typename: string | undefined;
  readonly representation: Readonly<Record<string, unknown>> | undefined;
  readonly at: number;
}

export class InvalidationMarks {
  readonly #bySubgraph = new Map<string, number>();
  readonly #byType = new Map<string, number>();
  readonly #byKey = new Map<string, { key: Readonly<Record<string, unknown>>; at: number }[]>();
  /** Latest type or key mark of any type: root-field answers may embed any entity, so they go too. */
  #anyEntity = 0;
  #latest = 0;

  /**
   * The time of the latest mark of any kind (0: none). An entry written at or after it is covered
   * by none: the hot path checks this one number instead of building the facts of each entry.
   */
  get latest(): number {
    return this.#latest;
  }

  apply(mark: InvalidationMark): void {
    const t = mark.target;
    this.#latest = Math.max(this.#latest, mark.at);
    if (t.by === 'subgraph') this.#bySubgraph.set(t.subgraph, Math.max(mark.at, this.#bySubgraph.get(t.subgraph) ?? 0));
    else if (t.by === 'type') this.#byType.set(t.type, Math.max(mark.at, this.#byType.get(t.type) ?? 0));
    else {
      const list = this.#byKey.get(t.type) ?? [];
      list.push({ key: t.key, at: mark.at });
      this.#byKey.set(t.type, list);
    }
    if (t.by !== 'subgraph') this.#anyEntity = Math.max(this.#anyEntity, mark.at);
  }

  /** Drops marks older than `before` (no entry that old can still exist). */
  prune(before: number): void {
    for (const [k, at] of this.#bySubgraph) if (at < before) this.#bySubgraph.delete(k);
    for (const [k, at] of this.#byType) if (at < before) this.#byType.delete(k);
    for (const [k, list] of this.#byKey) {
      const kept = list.filter((m) => m.at >= before);
      if (kept.length) this.#byKey.set(k, kept);
      else this.#byKey.delete(k);
    }
  }

  /** True when a mark made after the entry's fetch covers it. */
  covers(e: EntryFacts): boolean {
    if ((this.#bySubgraph.get(e.subgraph) ?? 0) > e.at) return true;
    if (e.kind === 'root') return this.#anyEntity > e.at;
    if (!e.typename) return false;
    if ((this.#byType.get(e.typename) ?? 0) > e.at) return true;
    const keyed = this.#byKey.get(e.typename);
    if (!keyed || !e.representation) return false;
    return keyed.some((m) => m.at > e.at && Object.entries(m.key).every(([f, v]) => JSON.stringify(e.representation![f]) === JSON.stringify(v)));
  }
}

/** A stable text for a target (its field in the Redis hash of marks). */
export function targetId(t: InvalidationTarget): string {
  if (t.by === 'subgraph') return `subgraph:${t.subgraph}`;
  if (t.by === 'type') return `type:${t.type}`;
  const sorted = Object.fromEntries(Object.entries(t.key).sort(([a], [b]) => a.localeCompare(b)));
  return `key:${t.type}:${JSON.stringify(sorted)}`;
}

/** Parses what a mark's id and time were stored as; undefined for anything else. */
export function parseMark(id: string, at: string | number): InvalidationMark | undefined {
  const time = Number(at);
  if (!Number.isFinite(time)) return undefined;
  if (id.startsWith('subgraph:')) return { target: { by: 'subgraph', subgraph: id.slice(9) }, at: time };
  if (id.startsWith('type:')) return { target: { by: 'type', type: id.slice(5) }, at: time };
  if (id.startsWith('key:')) {
    const rest = id.slice(4);
    const colon = rest.indexOf(':');
    if (colon <= 0) return undefined;
    try {
      const key = JSON.parse(rest.slice(colon + 1)) as unknown;
      if (!key || typeof key !== 'object' || Array.isArray(key)) return undefined;
      return { target: { by: 'key', type: rest.slice(0, colon), key: key as Record<string, unknown> }, at: time };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
