/**
 * Label values with a bounded set, whatever the input. Pure. (The `operation_type` label is the
 * request state's own bounded `OperationType`, so a log line and a series always agree.)
 */

/** `status_class` label: `2xx` … `5xx`; anything outside 100–599 is `other`. */
export function statusClass(statusCode: number): string {
  return statusCode >= 100 && statusCode < 600 ? `${Math.floor(statusCode / 100)}xx` : 'other';
}

/** Label values are at most this long and of a safe alphabet (they end up in PromQL and URLs). */
const SAFE_LABEL = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * A label whose values come from configuration that may grow at run time (rate-limit tiers):
 * the first `max` distinct well-formed values are kept, anything after (or malformed) is
 * `other`. Memory is bounded by `max`.
 */
export function cappedLabel(max: number, other: string): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= max || !SAFE_LABEL.test(value)) return other;
    seen.add(value);
    return value;
  };
}
