/**
 * Good answers of one fetch scope (field group × fetch document × variables) stored at most this
 * often, ms: one per second per scope, some 300 refreshes within the 5-minute stale TTL.
 */
export const DEFAULT_STALE_WRITE_INTERVAL_MS = 1_000;
/** Most scopes tracked; past it the table starts over (bounded memory, a few extra writes). */
const DEFAULT_SAMPLER_MAX_SCOPES = 10_000;

/**
 * Decides which good answers are stored for stale-if-error. Storing every one (JSON text per
 * entity, and a Redis SET per entity with the shared store) cost ~3 % of a request's CPU in the
 * profiles and multiplied Redis writes by the request rate. Stale values need to be recent, not
 * the latest: at most one answer per second per scope is stored, which refreshes a hot catalogue
 * hundreds of times within the 5-minute stale TTL. With the Redis store each stored answer is
 * a pipeline of one SET per entity, written command by command: at 10 per second per scope it
 * was still ~1 % of a request's CPU.
 */
export class StaleWriteSampler {
  readonly #lastWrite = new Map<string, number>();

  constructor(
    private readonly intervalMs = DEFAULT_STALE_WRITE_INTERVAL_MS,
    private readonly maxScopes = DEFAULT_SAMPLER_MAX_SCOPES,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** True when an answer of `scope` should be stored now (and notes that it is). */
  due(scope: string): boolean {
    const t = this.now();
    const last = this.#lastWrite.get(scope);
    if (last !== undefined && t - last < this.intervalMs) return false;
    if (last === undefined && this.#lastWrite.size >= this.maxScopes) this.#lastWrite.clear();
    this.#lastWrite.set(scope, t);
    return true;
  }
}
