/**
 * In-flight deduplication: identical concurrent calls share one execution. Callers get the
 * same resolved value, so it must be immutable (the data source shares the raw body text and
 * parses it per caller, because the gateway mutates the objects it merges).
 */
export interface InflightDedup<T> {
  run(key: string, fn: () => Promise<T>): Promise<{ value: T; shared: boolean }>;
  readonly size: number;
}

export function createInflightDedup<T>(): InflightDedup<T> {
  const inflight = new Map<string, Promise<T>>();
  return {
    async run(key, fn) {
      const existing = inflight.get(key);
      if (existing) return { value: await existing, shared: true };
      const p = fn().finally(() => inflight.delete(key));
      inflight.set(key, p);
      return { value: await p, shared: false };
    },
    get size() {
      return inflight.size;
    },
  };
}
