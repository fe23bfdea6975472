import { Gauge, type Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast.ts';
import type { TrustedDocumentOutcome } from '../request/context.ts';
import type { CostMode } from '../hardening/index.ts';
import type { CostMetrics } from '../hardening/plugin.ts';
import type { TrustedDocumentsLoadOutcome, TrustedDocumentsMetrics } from '../trustedDocuments/index.ts';

/**
 * Operation cost, in the estimator's unit (objects, see src/hardening/cost.ts): 1 … 1,000,000.
 * The demo's pages are 4–240, the public benchmark's TestQuery 23,315, the default limit 100,000.
 */
export const COST_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000];
/**
 * Estimate ÷ actual: 1 is exact, and the model is an upper bound, so most operations land above
 * 1; a median far above it means lists are smaller than assumed (lower PORTICO_COST_LIST_SIZE),
 * values below 1 that lists are larger (raise it, or add `@listSize`).
 */
export const COST_RATIO_BUCKETS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100, 1_000];
/** Subgraph fetches of one operation: a product page makes 4, the public benchmark's query ~10. */
export const SUBGRAPH_FETCH_BUCKETS = [0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100];

const COST_MODES: readonly CostMode[] = ['measure', 'enforce'];
const TRUSTED_OUTCOMES: readonly TrustedDocumentOutcome[] = ['listed', 'unlisted', 'refused', 'bypass'];
const TRUSTED_LOAD_OUTCOMES: readonly TrustedDocumentsLoadOutcome[] = ['success', 'failure', 'unchanged'];

/** What operations cost (estimate before planning, actual after execution) and whether they were trusted. */
export interface OperationMetrics {
  /** The hardening plugin's `metrics`: estimated and actual operation cost. */
  readonly cost: CostMetrics;
  /** The trusted documents plugin's `metrics`. */
  readonly trustedDocuments: TrustedDocumentsMetrics;
}

export function createOperationMetrics(registers: Registry[]): OperationMetrics {
  const costEstimated = new FastHistogram({
    name: 'portico_operation_cost_estimated_objects',
    help: 'Estimated cost of operations (objects the answer may hold, @cost weights applied), refused ones included.',
    buckets: COST_BUCKETS,
    registers,
  });
  const costActual = new FastHistogram({
    name: 'portico_operation_cost_actual_objects',
    help: 'Actual cost of executed operations: objects in the answer (plus 10 for a mutation).',
    buckets: COST_BUCKETS,
    registers,
  });
  const costRatio = new FastHistogram({
    name: 'portico_operation_cost_estimate_ratio',
    help: 'Estimated ÷ actual cost of executed operations whose answer holds an object: 1 is exact, above 1 the estimate was pessimistic.',
    buckets: COST_RATIO_BUCKETS,
    registers,
  });
  const fetchesPerOperation = new FastHistogram({
    name: 'portico_operation_subgraph_fetches',
    help: 'Subgraph fetches made by one executed operation (deduplicated ones included).',
    buckets: SUBGRAPH_FETCH_BUCKETS,
    registers,
  });
  const overCost = new FastCounter({
    name: 'portico_operation_cost_over_limit_total',
    help: 'Operations estimated above PORTICO_MAX_COST, by PORTICO_COST_MODE (enforce: refused with QUERY_TOO_COMPLEX; measure: served).',
    labelNames: ['mode'] as const,
    registers,
  });

  const trustedRequests = new FastCounter({
    name: 'portico_trusted_documents_requests_total',
    help: 'Operations checked against the trusted documents list, by outcome (listed; unlisted: ran in log mode; refused: enforce mode; bypass: ran for a caller with the bypass scope).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const trustedLoads = new FastCounter({
    name: 'portico_trusted_documents_loads_total',
    help: 'Trusted documents list loads, by outcome (failure: rejected, the last good list keeps serving).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const trustedOperations = new Gauge({
    name: 'portico_trusted_documents_operations',
    help: 'Operations in the trusted documents list currently served.',
    registers,
  });

  for (const mode of COST_MODES) overCost.inc({ mode }, 0);

  return {
    cost: {
      onEstimate(estimated, overLimit, mode) {
        costEstimated.observe(estimated);
        if (overLimit) overCost.inc({ mode });
      },
      onActual(estimated, actual, subgraphFetches) {
        costActual.observe(actual);
        fetchesPerOperation.observe(subgraphFetches);
        // An answer without objects (null, empty lists, scalars only) has no ratio to speak of.
        if (actual > 0) costRatio.observe(estimated / actual);
      },
    },
    trustedDocuments: {
      onRequest(outcome) {
        trustedRequests.inc({ outcome: TRUSTED_OUTCOMES.includes(outcome) ? outcome : 'refused' });
      },
      onLoad(outcome, operations) {
        trustedLoads.inc({ outcome: TRUSTED_LOAD_OUTCOMES.includes(outcome) ? outcome : 'failure' });
        if (outcome === 'success') trustedOperations.set(operations);
      },
    },
  };
}
