import { describe, expect, it } from 'vitest';
import { bucketOf, createSubgraphStats, LATENCY_BOUNDS_MS, quantile, STATS_WINDOW_S } from '../../../src/health/subgraphStats.ts';

function clock(startMs = 1_700_000_000_000) {
  let t = startMs;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('subgraph stats (ring of per-second buckets)', () => {
  it('counts requests and errors over 1 and 5 minutes; old seconds fall out', () => {
    const c = clock();
    const s = createSubgraphStats({ now: c.now });
    const o = s.observer;
    for (let i = 0; i < 10; i++) {
      o.started('pricing');
      o.finished('pricing', 'pricing:Product', i < 3 ? 'connection' : 'success', 0.02, 'ECONNREFUSED 10.0.0.5:4002', 'connection refused');
    }
    c.advance(120_000); // 2 minutes later: out of the 1-minute window, still in the 5-minute one
    o.started('pricing');
    o.finished('pricing', 'pricing:Product', 'success', 0.01);
    const snap = s.snapshot('pricing');
    expect(snap.windows['1m']).toMatchObject({ requests: 1, errors: 0, errorRate: 0 });
    expect(snap.windows['5m']).toMatchObject({ requests: 11, errors: 3 });
    expect(snap.windows['5m'].errorRate).toBeCloseTo(3 / 11);
    c.advance(STATS_WINDOW_S * 1_000);
    expect(s.snapshot('pricing').windows['5m']).toMatchObject({ requests: 0, errors: 0, latencyMs: null });
  });

  it('a slot reused after a full turn of the ring starts from zero', () => {
    const c = clock();
    const s = createSubgraphStats({ now: c.now });
    s.observer.finished('a', 'a:Query', 'success', 0.001);
    c.advance(STATS_WINDOW_S * 1_000); // same slot, next turn
    s.observer.finished('a', 'a:Query', 'success', 0.001);
    expect(s.snapshot('a').windows['5m'].requests).toBe(1);
  });

  it('percentiles from the fixed latency buckets, only over calls that were sent', () => {
    const c = clock();
    const s = createSubgraphStats({ now: c.now });
    for (let i = 0; i < 98; i++) s.observer.finished('p', 'p:Product', 'success', 0.004); // 4 ms
    s.observer.finished('p', 'p:Product', 'timeout', 0.8);
    s.observer.finished('p', 'p:Product', 'timeout', 0.8);
    for (let i = 0; i < 50; i++) s.observer.finished('p', 'p:Product', 'circuit_open', 0); // never sent
    const w = s.snapshot('p').windows['1m'];
    expect(w.requests).toBe(150);
    expect(w.errors).toBe(52);
    expect(w.latencyMs!.p50).toBeGreaterThan(3);
    expect(w.latencyMs!.p50).toBeLessThanOrEqual(5);
    expect(w.latencyMs!.p95).toBeLessThanOrEqual(5);
    expect(w.latencyMs!.p99).toBeGreaterThan(700);
    expect(w.latencyMs!.p99).toBeLessThanOrEqual(1_000);
  });

  it('keeps the client-safe reason of the last error, never the log detail', () => {
    const c = clock();
    const s = createSubgraphStats({ now: c.now });
    s.observer.finished('pricing', 'pricing:Product', 'connection', 0.01, 'ECONNREFUSED connect ECONNREFUSED 10.1.2.3:4002', 'connection refused');
    c.advance(1_500);
    s.observer.finished('pricing', 'pricing:Product', 'http_5xx', 0.01, '<html>Bad Gateway at http://pricing.internal</html>');
    const last = s.snapshot('pricing').lastError!;
    expect(last).toMatchObject({ key: 'pricing:Product', outcome: 'http_5xx', reason: 'answered HTTP 5xx' });
    expect(last.at).toBe(new Date(c.now()).toISOString());
    expect(JSON.stringify(s.snapshot('pricing'))).not.toMatch(/10\.1\.2\.3|http:|html/);
  });

  it('in flight follows started/finished and never goes negative', () => {
    const s = createSubgraphStats();
    s.observer.started('a');
    s.observer.started('a');
    expect(s.snapshot('a').inFlight).toBe(2);
    s.observer.finished('a', 'a:Q', 'success', 0.001);
    s.observer.finished('a', 'a:Q', 'success', 0.001);
    s.observer.finished('a', 'a:Q', 'success', 0.001);
    expect(s.snapshot('a').inFlight).toBe(0);
    expect(s.subgraphs()).toEqual(['a']);
    expect(s.snapshot('never-called')).toMatchObject({ inFlight: 0, lastError: null, windows: { '1m': { requests: 0 } } });
  });
});

describe('latency buckets', () => {
  it('bucketOf puts a value in the first bound that holds it, overflow after the last', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(1)).toBe(0);
    expect(bucketOf(1.01)).toBe(1);
    expect(bucketOf(10_000)).toBe(LATENCY_BOUNDS_MS.length - 1);
    expect(bucketOf(60_000)).toBe(LATENCY_BOUNDS_MS.length);
  });
  it('quantile interpolates inside the bucket and reads overflow as the last bound', () => {
    const hist = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
    hist[bucketOf(8)] = 100; // (7, 10]
    expect(quantile(hist, 100, 0.5)).toBeCloseTo(8.5, 1);
    const over = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
    over[LATENCY_BOUNDS_MS.length] = 1;
    expect(quantile(over, 1, 0.99)).toBe(10_000);
  });
});

describe('last error', () => {
  it('a circuit-open rejection does not hide the failure that opened the breaker', () => {
    const s = createSubgraphStats();
    s.observer.finished('pricing', 'pricing:Product', 'circuit_open', 0, undefined, 'circuit open after repeated failures');
    expect(s.snapshot('pricing').lastError?.outcome).toBe('circuit_open');
    s.observer.finished('pricing', 'pricing:Product', 'timeout', 0.3, undefined, 'timed out after 300 ms');
    s.observer.finished('pricing', 'pricing:Product', 'circuit_open', 0, undefined, 'circuit open after repeated failures');
    expect(s.snapshot('pricing').lastError).toMatchObject({ outcome: 'timeout', reason: 'timed out after 300 ms' });
  });
});
