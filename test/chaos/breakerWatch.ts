/**
 * Watches every instance's breakers from the outside, as an operator's dashboard would: polls
 * each ops listener's `/health/subgraphs` every {@link POLL_MS} and keeps, per instance and
 * subgraph, the moments its breakers changed. There is no event to subscribe to across the
 * process boundary; the poll interval bounds how late a change is seen.
 */
export const POLL_MS = 100;

interface Change {
  /** performance.now() when seen. */
  readonly at: number;
  /** Some breaker of the subgraph is open (not half-open: that is already probing). */
  readonly open: boolean;
  /** Every breaker of the subgraph is closed. */
  readonly closed: boolean;
}

export interface BreakerWatch {
  /** Per instance: ms from `from` until a breaker of `subgraph` was seen open (0 if it already was); null: never. */
  openedAfter(subgraph: string, from: number): (number | null)[];
  /** Per instance: ms from `from` until every breaker of `subgraph` was seen closed (0 if they already were); null: not yet. */
  closedAfter(subgraph: string, from: number): (number | null)[];
  /** Resolves once every instance has shown all breakers of `subgraph` closed since `from`, or after `timeoutMs`. */
  waitClosed(subgraph: string, from: number, timeoutMs: number): Promise<void>;
  stop(): void;
}

export function createBreakerWatch(opsUrls: () => readonly string[]): BreakerWatch {
  const count = opsUrls().length;
  /** history[instance][subgraph] = changes, oldest first. */
  const history: Map<string, Change[]>[] = Array.from({ length: count }, () => new Map());
  let running = true;

  async function poll(i: number) {
    while (running) {
      const at = performance.now();
      try {
        const res = await fetch(`${opsUrls()[i]}/health/subgraphs`, { signal: AbortSignal.timeout(1_000) });
        const report = (await res.json()) as { subgraphs: { name: string; breakers: { state: string }[] }[] };
        for (const sg of report.subgraphs) {
          const open = sg.breakers.some((b) => b.state === 'open' || b.state === 'forced-open');
          const closed = sg.breakers.every((b) => b.state === 'closed');
          const list = history[i]!.get(sg.name) ?? [];
          const last = list.at(-1);
          if (!last || last.open !== open || last.closed !== closed) list.push({ at, open, closed });
          history[i]!.set(sg.name, list);
        }
      } catch {
        // A restarting instance does not answer; its history resumes when it does.
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
  for (let i = 0; i < count; i++) void poll(i);

  /** Per instance, ms after `from` when `pred` first held (counting the state in force at `from`). */
  function firstAfter(subgraph: string, from: number, pred: (c: Change) => boolean): (number | null)[] {
    return history.map((bySubgraph) => {
      const list = bySubgraph.get(subgraph) ?? [];
      const inForce = list.filter((c) => c.at <= from).at(-1);
      if (inForce && pred(inForce)) return 0;
      const first = list.find((c) => c.at > from && pred(c));
      return first ? Math.round(first.at - from) : null;
    });
  }

  return {
    openedAfter: (subgraph, from) => firstAfter(subgraph, from, (c) => c.open),
    closedAfter: (subgraph, from) => firstAfter(subgraph, from, (c) => c.closed),
    async waitClosed(subgraph, from, timeoutMs) {
      const end = performance.now() + timeoutMs;
      while (performance.now() < end) {
        const after = firstAfter(subgraph, from, (c) => c.closed);
        if (after.every((v) => v !== null)) return;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    },
    stop() {
      running = false;
    },
  };
}
