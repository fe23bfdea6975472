import { describe, expect, it } from 'vitest';
import { LightAbort } from '../../../src/request/signal.ts';

describe('LightAbort (the request and rate-limit signal)', () => {
  it('fires each listener once, in the order added, and only listeners still added', () => {
    const a = new LightAbort();
    const seen: string[] = [];
    const first = () => seen.push('first');
    const removed = () => seen.push('removed');
    const second = () => seen.push('second');
    a.addEventListener('abort', first);
    a.addEventListener('abort', removed);
    a.addEventListener('abort', second);
    a.removeEventListener('abort', removed);
    expect(a.aborted).toBe(false);
    a.abort();
    a.abort();
    expect(seen).toEqual(['first', 'second']);
    expect(a.aborted).toBe(true);
  });

  it('gives the reason it was aborted with, or an AbortError like an AbortController', () => {
    const withReason = new LightAbort();
    const reason = new Error('client gone');
    withReason.abort(reason);
    expect(withReason.reason).toBe(reason);
    const plain = new LightAbort();
    plain.abort();
    expect((plain.reason as DOMException).name).toBe('AbortError');
  });

  it('never fires a listener added after the abort (as an AbortSignal does not)', () => {
    const a = new LightAbort();
    a.abort();
    let fired = false;
    a.addEventListener('abort', () => (fired = true));
    expect(fired).toBe(false);
    // Removing what was never added is harmless.
    a.removeEventListener('abort', () => undefined);
  });

  it('a listener removed by another while the abort runs is not called (as with an EventTarget)', () => {
    const a = new LightAbort();
    const seen: string[] = [];
    const later = () => seen.push('later');
    a.addEventListener('abort', () => {
      seen.push('earlier');
      a.removeEventListener('abort', later);
    });
    a.addEventListener('abort', later);
    a.abort();
    expect(seen).toEqual(['earlier']);
  });
});
