import { type Registry } from 'prom-client';
import { FastCounter } from './fast.ts';
import type { CacheObserver } from '../cache/index.ts';
import { cappedLabel } from './labels.ts';

/** Distinct `type` label values kept (types and root field groups of the supergraph); later ones count as `other`. */
export const MAX_CACHE_TYPE_LABELS = 200;

/** The cache's metrics, per subgraph and type: the `observer` dep of `createCache`. */
export function createCacheMetrics(registers: Registry[]): CacheObserver {
  const typeLabel = cappedLabel(MAX_CACHE_TYPE_LABELS, 'other');
  const lookups = new FastCounter({
    name: 'portico_cache_lookups_total',
    help: 'Cache lookups per entity (or root-field fetch): hit (fresh), stale (served while refreshed in the background), miss (sent to the subgraph).',
    labelNames: ['subgraph', 'type', 'result'] as const,
    registers,
  });
  const staleServed = new FastCounter({
    name: 'portico_cache_stale_if_error_total',
    help: 'Cached values past their refresh window served because the subgraph failed or its breaker was open.',
    labelNames: ['subgraph', 'type'] as const,
    registers,
  });
  const revalidations = new FastCounter({
    name: 'portico_cache_revalidations_total',
    help: 'Background refreshes of expired entries (one caller across all instances), by outcome.',
    labelNames: ['subgraph', 'type', 'outcome'] as const,
    registers,
  });
  const storedBytes = new FastCounter({
    name: 'portico_cache_stored_bytes_total',
    help: 'Bytes of values written to the cache (JSON text).',
    labelNames: ['subgraph', 'type'] as const,
    registers,
  });
  const sharedErrors = new FastCounter({
    name: 'portico_cache_redis_errors_total',
    help: 'Cache reads or writes Redis did not serve (answered as misses or skipped; never a client error).',
    labelNames: ['subgraph'] as const,
    registers,
  });
  const responses = new FastCounter({
    name: 'portico_cache_responses_total',
    help: 'Anonymous queries looked up in the whole-response cache: hit (answered without executing), miss (executed).',
    labelNames: ['result'] as const,
    registers,
  });
  return {
    response: (result) => responses.inc({ result }),
    lookup: (subgraph, type, result, count) => lookups.inc({ subgraph, type: typeLabel(type), result }, count),
    staleIfError: (subgraph, type) => staleServed.inc({ subgraph, type: typeLabel(type) }),
    revalidation: (subgraph, type, outcome) => revalidations.inc({ subgraph, type: typeLabel(type), outcome }),
    stored: (subgraph, type, bytes) => storedBytes.inc({ subgraph, type: typeLabel(type) }, bytes),
    sharedError: (subgraph) => sharedErrors.inc({ subgraph }),
  };
}
