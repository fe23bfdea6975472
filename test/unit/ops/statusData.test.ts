import { describe, expect, it } from 'vitest';
import { createStatusHistory } from '../../../src/health/history.ts';
import { statusDataFor } from '../../../src/ops/statusData.ts';

describe('/status/data', () => {
  it('draws each subgraph, times each breaker, lists probes, and renders extra sections (a throwing one is contained)', () => {
    let now = 0;
    const history = createStatusHistory({ sampleMs: 1_000, windowMs: 10_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      history.observer.finished('pricing', 'pricing:Product', i === 2 ? 'timeout' : 'success', 0.01);
      now += 1_000;
      history.sample();
    }
    history.onBreakerTransition({ key: 'pricing:Product', subgraph: 'pricing', from: 'closed', to: 'open' });
    now += 1_000;
    const data = statusDataFor({
      history,
      now: () => now,
      breakers: () => [{ key: 'pricing:Product', subgraph: 'pricing', state: 'open' } as never],
      probes: () => ({ 'product-page': [{ probe: 'product-page', at: 't2', result: 'degraded', status: 200, latencyMs: 5, degradedFields: 3, degradedServices: ['pricing'], errorCodes: [] }, { probe: 'product-page', at: 't1', result: 'ok', status: 200, latencyMs: 4, degradedFields: 0, degradedServices: [], errorCodes: [] }] }),
      supergraph: () => ({ hash: 'abc', loadedAt: new Date(0) }),
      sections: [
        { id: 'canary', title: 'Canary', rows: () => ({ share: '10 %', candidate: 'def' }) },
        { id: 'broken', title: 'Broken', rows: () => { throw new Error('x'); } },
      ],
    })() as any;
    expect(data.subgraphs[0].name).toBe('pricing');
    expect(data.subgraphs[0].points).toBe(3);
    expect(data.subgraphs[0].paths.errorRate).toMatch(/^M0 36L120 36L240 0$/);
    expect(data.breakers[0].segments.map((s: { state: string }) => s.state)).toEqual(['closed', 'open']);
    expect(data.probes[0].last.result).toBe('degraded');
    expect(data.probes[0].recent.map((r: { result: string }) => r.result)).toEqual(['ok', 'degraded']);
    expect(data.supergraph).toEqual({ hash: 'abc', loadedAt: '1970-01-01T00:00:00.000Z' });
    expect(data.sections).toEqual([
      { id: 'canary', title: 'Canary', rows: { share: '10 %', candidate: 'def' } },
      { id: 'broken', title: 'Broken', rows: { error: 'unavailable' } },
    ]);
  });
});
