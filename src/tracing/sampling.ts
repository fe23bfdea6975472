/**
 * The ratio decision for traces Portico starts: the same answer as the SDK's
 * `TraceIdRatioBasedSampler` (the four 32-bit words of the trace id XORed, below `ratio` of
 * 2³²), so a trace id is kept here exactly when other OpenTelemetry JS services keep it. Made
 * once per request, on ids `src/request/correlation.ts` already checked, so without the SDK's
 * validation regex and result object: the SDK's call was ~0.7 % of a request's CPU in a profile.
 */
export function ratioSampler(ratio: number): (traceId: string) => boolean {
  const r = Number.isNaN(ratio) ? 0 : Math.min(1, Math.max(0, ratio));
  const upperBound = Math.floor(r * 0xffffffff);
  if (upperBound === 0) return () => false;
  return (traceId) => {
    let accumulation = 0;
    for (let pos = 0; pos < traceId.length; pos += 8) accumulation = (accumulation ^ Number.parseInt(traceId.slice(pos, pos + 8), 16)) >>> 0;
    return accumulation < upperBound;
  };
}
