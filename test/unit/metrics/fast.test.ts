import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram } from '../../../src/metrics/fast.ts';

/** A small deterministic generator, so a failure replays. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

const BUCKETS = [0.001, 0.005, 0.01, 0.1, 1];

function pair() {
  const plain = new Registry();
  const fast = new Registry();
  const make = (registry: Registry, fastKind: boolean) => {
    const C = fastKind ? FastCounter : Counter;
    const H = fastKind ? FastHistogram : Histogram;
    return {
      requests: new C({ name: 'requests_total', help: 'h', labelNames: ['subgraph', 'outcome'] as const, registers: [registry] }),
      errors: new C({ name: 'errors_total', help: 'h', registers: [registry] }),
      duration: new H({ name: 'duration_seconds', help: 'h', labelNames: ['subgraph'] as const, buckets: BUCKETS, registers: [registry] }),
      cost: new H({ name: 'cost', help: 'h', buckets: [1, 10, 100], registers: [registry] }),
    };
  };
  return { plain, fast, p: make(plain, false), f: make(fast, true) };
}

describe('FastCounter and FastHistogram (src/metrics/fast.ts)', () => {
  it('expose exactly what prom-client exposes for the same updates, scraped in between and after a reset', async () => {
    const { plain, fast, p, f } = pair();
    const next = random(42);
    const subgraphs = ['pricing', 'inventory', 'review'];
    const outcomes = ['success', 'timeout'];
    // Exact bounds, zero, values past the last bound and tiny ones.
    const values = [0, 0.001, 0.0049, 0.005, 0.01, 0.5, 1, 3, 1e-9];
    const step = (n: number) => {
      for (let i = 0; i < n; i++) {
        const subgraph = subgraphs[Math.floor(next() * subgraphs.length)]!;
        const outcome = outcomes[Math.floor(next() * outcomes.length)]!;
        const v = values[Math.floor(next() * values.length)]! * (next() < 0.5 ? 1 : 1.7);
        for (const m of [p, f]) {
          m.requests.inc({ subgraph, outcome });
          if (i % 7 === 0) m.requests.inc({ subgraph, outcome }, 2.5);
          if (i % 11 === 0) m.errors.inc();
          m.duration.observe({ subgraph }, v);
          m.cost.observe(v * 100);
        }
      }
    };
    step(500);
    expect(await fast.metrics()).toBe(await plain.metrics());
    step(300);
    f.duration.labels({ subgraph: 'pricing' }).observe(0.02);
    p.duration.labels({ subgraph: 'pricing' }).observe(0.02);
    expect(await fast.metrics()).toBe(await plain.metrics());
    expect(await fast.getMetricsAsJSON()).toEqual(await plain.getMetricsAsJSON());
    for (const m of [p, f]) {
      m.duration.reset();
      m.requests.reset();
    }
    step(50);
    expect(await fast.metrics()).toBe(await plain.metrics());
    expect(await fast.metrics()).toContain('duration_seconds_bucket{le="0.005",subgraph="pricing"}');
  });

  it('zero a histogram series and key numeric label values as prom-client does', async () => {
    const { plain, fast, p, f } = pair();
    for (const m of [p, f]) {
      m.duration.observe({ subgraph: 'pricing' }, 0.004);
      m.duration.observe({ subgraph: 'review' }, 0.2);
      m.duration.zero({ subgraph: 'pricing' });
      m.duration.zero({ subgraph: 'inventory' });
      m.duration.observe({ subgraph: 'pricing' }, 0.02);
      // A number and its string are one series to prom-client.
      m.requests.inc({ subgraph: 7 as never, outcome: 'success' });
      m.requests.inc({ subgraph: '7', outcome: 'success' });
      m.duration.observe({ subgraph: 7 as never }, 0.5);
      m.duration.observe({ subgraph: '7' }, 0.05);
    }
    expect(await fast.metrics()).toBe(await plain.metrics());
    expect(await fast.metrics()).toContain('requests_total{subgraph="7",outcome="success"} 2');
    expect(() => f.duration.remove({ subgraph: 'pricing' })).toThrow(/not supported/);
  });

  it('refuse what prom-client refuses, with its messages', () => {
    const { p, f } = pair();
    for (const [fn, what] of [
      [(m: typeof p) => m.requests.inc({ subgraph: 'x', nope: 'y' } as never), 'an undeclared label'],
      [(m: typeof p) => m.requests.inc({ subgraph: 'x', outcome: 'y' }, -1), 'a negative increment'],
      [(m: typeof p) => m.duration.observe({ subgraph: 'x' }, Number.NaN), 'NaN'],
      [(m: typeof p) => m.duration.observe({ sub: 'x' } as never, 1), 'an undeclared label'],
    ] as const) {
      let plainError = '';
      try {
        fn(p);
      } catch (err) {
        plainError = (err as Error).message;
      }
      expect(plainError, what).not.toBe('');
      expect(() => fn(f), what).toThrow(plainError);
    }
  });
});
