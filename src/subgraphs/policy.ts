import { DEFAULT_SLOW_CALL_TIMEOUT_RATIO } from '../resilience/breakers.ts';
import type { SubgraphPolicy } from './types.ts';

/**
 * Resolves the timeout, slow-call threshold and fallback of a breaker key: the key's own
 * setting (`review:Product`), else its subgraph's (`review`), else the default. Memoized: keys
 * are few and this runs on every fetch.
 */
export function policyResolver(settings: {
  timeoutMs: number;
  timeouts: Readonly<Record<string, number>>;
  fallbacks: Readonly<Record<string, 'stale' | 'null'>>;
  /** Fixed slow-call threshold, ms; undefined: {@link DEFAULT_SLOW_CALL_TIMEOUT_RATIO} of the key's timeout; 0: off. */
  slowCallMs: number | undefined;
}): (subgraph: string, key: string) => SubgraphPolicy {
  const memo = new Map<string, SubgraphPolicy>();
  return (subgraph, key) => {
    let p = memo.get(key);
    if (!p) {
      const timeoutMs = settings.timeouts[key] ?? settings.timeouts[subgraph] ?? settings.timeoutMs;
      const slowCallMs = settings.slowCallMs ?? Math.max(1, Math.round(timeoutMs * DEFAULT_SLOW_CALL_TIMEOUT_RATIO));
      p = Object.freeze({
        timeoutMs,
        fallback: settings.fallbacks[key] ?? settings.fallbacks[subgraph] ?? 'null',
        slowCallMs: slowCallMs === 0 ? undefined : slowCallMs,
      });
      memo.set(key, p);
    }
    return p;
  };
}
