import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, MAX_TIER_LABELS, rateLimitDecisionLabel } from '../../../src/metrics/index.ts';
import { cappedLabel, statusClass } from '../../../src/metrics/labels.ts';
import { operationTypeOf } from '../../../src/request/state.ts';
import { parsePrometheusText, sampleValue } from '../../helpers/promText.ts';

async function scrape(registry: Registry) {
  return parsePrometheusText(await registry.metrics());
}

describe('label helpers', () => {
  it('status class and operation type have fixed value sets', () => {
    expect([statusClass(200), statusClass(429), statusClass(503), statusClass(99), statusClass(700)]).toEqual(['2xx', '4xx', '5xx', 'other', 'other']);
    expect(['query', 'mutation', 'subscription', 'QUERY', undefined, 'x'].map(operationTypeOf)).toEqual(['query', 'mutation', 'subscription', 'none', 'none', 'none']);
  });
  it('cappedLabel keeps the first N well-formed values, the rest become other', () => {
    const label = cappedLabel(2, 'other');
    expect(['a', 'b', 'a', 'c', 'b'].map(label)).toEqual(['a', 'b', 'a', 'other', 'b']);
    expect(cappedLabel(5, 'other')('has space')).toBe('other');
  });
  it('rate-limit decisions map to allowed / rejected / unavailable', () => {
    expect(rateLimitDecisionLabel({ allowed: true, rejection: undefined })).toBe('allowed');
    expect(rateLimitDecisionLabel({ allowed: false, rejection: 'quota' })).toBe('rejected');
    expect(rateLimitDecisionLabel({ allowed: false, rejection: 'cost-exceeds-limit' })).toBe('rejected');
    expect(rateLimitDecisionLabel({ allowed: false, rejection: 'limiter-unavailable' })).toBe('unavailable');
  });
});

describe('createMetrics', () => {
  it('unknown error codes are counted as OTHER; known ones under their name', async () => {
    const registry = new Registry();
    const m = createMetrics(registry, { defaultMetrics: false });
    for (let i = 0; i < 100; i++) m.graphql.onError(`RANDOM_${i}`);
    m.graphql.onError(undefined);
    m.graphql.onError('SUBGRAPH_TIMEOUT');
    m.graphql.onError('GRAPHQL_VALIDATION_FAILED');
    m.graphql.onError('QUERY_TOO_DEEP');
    const f = await scrape(registry);
    expect(sampleValue(f, 'portico_graphql_errors_total', { code: 'OTHER' })).toBe(101);
    expect(f.get('portico_graphql_errors_total')!.samples.map((s) => s.labels.code).sort()).toEqual(['GRAPHQL_VALIDATION_FAILED', 'OTHER', 'QUERY_TOO_DEEP', 'SUBGRAPH_TIMEOUT']);
  });

  it('tiers beyond the cap share one label value', async () => {
    const registry = new Registry();
    const m = createMetrics(registry, { defaultMetrics: false });
    const allowed = { allowed: true, rejection: undefined } as never;
    for (let i = 0; i < MAX_TIER_LABELS + 50; i++) m.rateLimit.onDecision(`tier${i}`, allowed);
    const f = await scrape(registry);
    expect(f.get('portico_ratelimit_decisions_total')!.samples).toHaveLength(MAX_TIER_LABELS + 1);
    expect(sampleValue(f, 'portico_ratelimit_decisions_total', { tier: 'other' })).toBe(50);
  });

  it('limiter mode: exactly one mode is 1', async () => {
    const registry = new Registry();
    const m = createMetrics(registry, { defaultMetrics: false });
    m.rateLimit.onModeChange('redis');
    m.rateLimit.onModeChange('local-fallback');
    const f = await scrape(registry);
    expect(f.get('portico_ratelimit_mode')!.samples.map((s) => [s.labels.mode, s.value])).toEqual([
      ['redis', 0],
      ['local-fallback', 1],
      ['memory', 0],
    ]);
  });

  it('breaker gauges are read from the registry at scrape time; transitions are counted', async () => {
    const registry = new Registry();
    const m = createMetrics(registry, { defaultMetrics: false });
    const window = { fires: 0, failures: 0, rejects: 0, successes: 0, recent: 0, slow: 0 };
    m.bind({
      breakers: () => [
        { key: 'pricing:Product', subgraph: 'pricing', state: 'open', window, slowCallMs: 1000, openedAt: undefined, openReason: 'slow_calls' },
        { key: 'review:Product', subgraph: 'review', state: 'forced-closed', window, slowCallMs: 1000, openedAt: undefined, openReason: undefined },
        { key: 'inventory:Product', subgraph: 'inventory', state: 'half-open', window, slowCallMs: 1000, openedAt: undefined, openReason: 'failures' },
      ],
      ready: () => true,
    });
    m.onBreakerTransition({ key: 'pricing:Product', subgraph: 'pricing', from: 'closed', to: 'open' });
    const f = await scrape(registry);
    expect(sampleValue(f, 'portico_breaker_state', { key: 'pricing:Product' })).toBe(2);
    expect(sampleValue(f, 'portico_breaker_state', { key: 'inventory:Product' })).toBe(1);
    expect(sampleValue(f, 'portico_breaker_state', { key: 'review:Product' })).toBe(0);
    expect(sampleValue(f, 'portico_breaker_forced', { key: 'review:Product' })).toBe(1);
    expect(sampleValue(f, 'portico_breaker_transitions_total', { key: 'pricing:Product', to: 'open' })).toBe(1);
    expect(sampleValue(f, 'portico_ready')).toBe(1);
  });

  it('subgraph observer: outcomes, in flight, bulkhead, latency only for calls sent', async () => {
    const registry = new Registry();
    const m = createMetrics(registry, { defaultMetrics: false });
    const o = m.subgraphs;
    o.started('pricing');
    o.started('pricing');
    o.finished('pricing', 'pricing:Product', 'success', 0.01);
    expect(sampleValue(await scrape(registry), 'portico_subgraph_in_flight', { subgraph: 'pricing' })).toBe(1);
    o.finished('pricing', 'pricing:Product', 'bulkhead_full', 0);
    o.deduplicated?.('pricing', 'success');
    o.deduplicated?.('pricing', 'timeout');
    o.retried?.('pricing');
    const f = await scrape(registry);
    expect(sampleValue(f, 'portico_subgraph_in_flight', { subgraph: 'pricing' })).toBe(0);
    expect(sampleValue(f, 'portico_subgraph_requests_total', { subgraph: 'pricing', outcome: 'bulkhead_full' })).toBe(1);
    expect(sampleValue(f, 'portico_bulkhead_rejections_total', { subgraph: 'pricing' })).toBe(1);
    expect(sampleValue(f, 'portico_subgraph_request_duration_seconds_count', { subgraph: 'pricing' })).toBe(1);
    expect(sampleValue(f, 'portico_subgraph_dedup_total', { subgraph: 'pricing' })).toBe(1);
    expect(sampleValue(f, 'portico_subgraph_retries_total', { subgraph: 'pricing' })).toBe(1);
  });

  it('two instances in one process keep separate registries', async () => {
    const a = createMetrics(new Registry());
    const b = createMetrics(new Registry());
    a.onSupergraphReload('failure');
    expect(sampleValue(await scrape(b.registry), 'portico_supergraph_reloads_total', { outcome: 'failure' })).toBe(0);
    expect(sampleValue(await scrape(a.registry), 'portico_supergraph_reloads_total', { outcome: 'failure' })).toBe(1);
    expect((await scrape(a.registry)).has('process_cpu_user_seconds_total')).toBe(true);
  });
});
