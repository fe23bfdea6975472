/**
 * The part of an `AbortSignal` that Portico's own waiters read (subgraph calls, the rate-limit
 * queue, in-flight dedup): an `AbortSignal` fits it, and so does the lighter {@link LightAbort}.
 */
export interface CallSignal {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A controller and its signal in one object, for signals only Portico listens to. Why not an
 * `AbortController`: Node builds one from an EventTarget, a signal object and a weak
 * registration per instance, and every listener goes through EventTarget's dispatch; made two
 * per request (the request's signal, the rate-limit wait), that was ~1.5 % of a product page's
 * CPU. Listeners here fire once (as with `{ once: true }`), in the order they were added.
 */
export class LightAbort implements CallSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: ((() => void) | null)[] | undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.listeners;
    if (!listeners) return;
    const i = listeners.indexOf(listener);
    if (i < 0) return;
    // While the abort runs, a removed listener is skipped, not spliced out from under the loop
    // (an EventTarget does not call a listener removed during its dispatch either).
    if (this.aborted) listeners[i] = null;
    else listeners.splice(i, 1);
  }

  abort(reason: unknown = abortError()): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    if (listeners) {
      for (let i = 0; i < listeners.length; i++) listeners[i]?.();
    }
    this.listeners = undefined;
  }
}

/** The reason an `AbortController` gives when aborted without one. */
function abortError(): Error {
  return new DOMException('This operation was aborted', 'AbortError');
}
