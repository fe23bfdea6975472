/**
 * The plan-executor setting (PORTICO_EXECUTOR), apart from the executor so config can read it
 * without loading the gateway.
 */
export const EXECUTORS = ['portico', 'apollo'] as const;
export type ExecutorName = (typeof EXECUTORS)[number];

/**
 * Portico's own executor: the differential suite holds its answers to @apollo/gateway's. `apollo`
 * stays selectable for one release, for comparison and as a fallback.
 */
export const DEFAULT_EXECUTOR: ExecutorName = 'portico';
