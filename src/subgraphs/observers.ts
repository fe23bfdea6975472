import type { Logger } from '../logging/index.ts';
import type { SubgraphCallObserver } from './types.ts';

/**
 * One observer that forwards every call event to several (metrics, the health view). An
 * observer that throws is logged and skipped: bookkeeping never fails a subgraph fetch.
 */
export function combineObservers(observers: readonly SubgraphCallObserver[], logger: Logger): SubgraphCallObserver {
  const log = logger.child({ component: 'subgraph-observer' });
  const each = (fn: (o: SubgraphCallObserver) => void) => {
    for (const o of observers) {
      try {
        fn(o);
      } catch (err) {
        log.error({ err }, 'subgraph call observer threw; ignored');
      }
    }
  };
  return {
    started: (subgraph) => each((o) => o.started(subgraph)),
    finished: (subgraph, key, outcome, seconds, detail, reason) => each((o) => o.finished(subgraph, key, outcome, seconds, detail, reason)),
    deduplicated: (subgraph, outcome) => each((o) => o.deduplicated?.(subgraph, outcome)),
    retried: (subgraph) => each((o) => o.retried?.(subgraph)),
  };
}
