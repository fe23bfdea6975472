import type { SubgraphPolicy } from './dataSource.ts';

/**
 * Resolves the timeout and fallback of a breaker key: the key's own setting
 * (`review:Product`), else its subgraph's (`review`), else the default. Memoized: keys are few
 * and this runs on every fetch.
 */
export function policyResolver(settings: {
  timeoutMs: number;
  timeouts: Readonly<Record<string, number>>;
  fallbacks: Readonly<Record<string, 'stale' | 'null'>>;
}): (subgraph: string, key: string) => SubgraphPolicy {
  const memo = new Map<string, SubgraphPolicy>();
  return (subgraph, key) => {
    let p = memo.get(key);
    if (!p) {
      p = Object.freeze({
        timeoutMs: settings.timeouts[key] ?? settings.timeouts[subgraph] ?? settings.timeoutMs,
        fallback: settings.fallbacks[key] ?? settings.fallbacks[subgraph] ?? 'null',
      });
      memo.set(key, p);
    }
    return p;
  };
}
