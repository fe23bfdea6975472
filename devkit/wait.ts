/**
 * Waiting for a condition that another process or server will make true. This polls at a short
 * interval: there is no event to subscribe to across a process boundary. Where an event exists
 * (a line printed, a request received), await that instead.
 */

export interface UntilOptions {
  /** Bound on the whole wait, ms. Default 10,000. */
  readonly timeoutMs?: number;
  /** Pause between probes, ms. Default 10. */
  readonly intervalMs?: number;
  /** Run between probes (e.g. more traffic, so the condition can become true). */
  readonly step?: () => Promise<void>;
  /** A reason to stop waiting at once (e.g. the process that should answer has exited). */
  readonly abortIf?: () => string | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_INTERVAL_MS = 10;

/**
 * Resolves with the first truthy value of `probe`. A probe that throws counts as "not yet"; the
 * last error is in the timeout message.
 * @throws naming `what` when `abortIf` gives a reason, or once the bound passes.
 */
export function until<T>(what: string, probe: () => T | Promise<T>, options?: UntilOptions): Promise<NonNullable<T>>;
/** The short form the tests use: `until(what, probe, timeoutMs, intervalMs)`. */
export function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs?: number, intervalMs?: number): Promise<NonNullable<T>>;
export async function until<T>(what: string, probe: () => T | Promise<T>, options: UntilOptions | number = {}, intervalMs?: number): Promise<NonNullable<T>> {
  const o: UntilOptions = typeof options === 'number' ? { timeoutMs: options, intervalMs } : options;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const reason = o.abortIf?.();
    if (reason !== undefined) throw new Error(`${what}: ${reason}`);
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    if (o.step) await o.step();
    await new Promise((r) => setTimeout(r, o.intervalMs ?? DEFAULT_INTERVAL_MS));
  }
}
