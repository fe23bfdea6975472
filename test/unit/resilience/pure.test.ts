import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { readinessOf } from '../../../src/health/readiness.ts';
import { requestIdFrom, traceparentFrom } from '../../../src/request/correlation.ts';
import { createBulkhead } from '../../../src/resilience/bulkhead.ts';
import { concretePaths, degradationReport } from '../../../src/degradation/report.ts';
import { classifyFetchError, countsAgainstBreaker, countsAsFailure, SubgraphFailure, TimeoutReason } from '../../../src/resilience/failures.ts';
import { createBreakerRegistry } from '../../../src/resilience/breakers.ts';
import { createLogger } from '../../../src/logging/index.ts';
import { createRetryBudget } from '../../../src/resilience/retryBudget.ts';
import { StaleWriteSampler } from '../../../src/degradation/staleSampler.ts';
import { fetchShape } from '../../../src/subgraphs/fetchShape.ts';
import { policyResolver } from '../../../src/subgraphs/policy.ts';
import { prepareForGateway } from '../../../src/supergraph/prepare.ts';

describe('fetchShape: the field group of a fetch', () => {
  it('entity fetch → type group and the provided fields', () => {
    const s = fetchShape(parse('query($representations:[_Any!]!){_entities(representations:$representations){...on Product{__typename price{amount} costPrice{amount}}}}'));
    expect(s).toMatchObject({ kind: 'entity', group: 'Product', fields: ['price', 'costPrice'], coordinates: ['Product.price', 'Product.costPrice'], operationType: 'query' });
  });
  it('root fetch of one field → Type.field; of several → the root type', () => {
    expect(fetchShape(parse('{products(first:3){id}}')).group).toBe('Query.products');
    expect(fetchShape(parse('{a:product(id:"1"){id} products{id}}'))).toMatchObject({ group: 'Query', fields: ['a', 'products'] });
    expect(fetchShape(parse('mutation{addReview(productId:"1",rating:1,body:"x"){id}}'))).toMatchObject({ group: 'Mutation.addReview', operationType: 'mutation' });
  });
});

describe('degradation report', () => {
  const data = { products: [{ id: '1', price: null }, null, { id: '3', price: null }], other: { nested: [[{ x: 1 }], [{ x: 2 }]] } };
  it('expands @ into real indices, skipping null parents', () => {
    expect(concretePaths(data, { pathPattern: ['products', '@'], fields: ['price'] }).paths).toEqual([
      ['products', 0, 'price'],
      ['products', 2, 'price'],
    ]);
  });
  it('walks nested lists', () => {
    expect(concretePaths(data, { pathPattern: ['other', 'nested', '@'], fields: ['y'] }).paths).toEqual([
      ['other', 'nested', 0, 0, 'y'],
      ['other', 'nested', 1, 0, 'y'],
    ]);
  });
  it('caps paths but counts them all; root fetches point at the root field even when data is null', () => {
    const big = { products: Array.from({ length: 25 }, () => ({ price: null })) };
    const { paths, count } = concretePaths(big, { pathPattern: ['products', '@'], fields: ['price'] }, 10);
    expect(paths).toHaveLength(10);
    expect(count).toBe(25);
    expect(concretePaths(null, { pathPattern: [], fields: ['products'] }).paths).toEqual([['products']]);
  });
  it('builds one error per failed fetch and a summary', () => {
    const r = degradationReport(data, [
      { service: 'pricing', key: 'pricing:Product', code: 'SUBGRAPH_TIMEOUT', reason: 'timed out after 300 ms', pathPattern: ['products', '@'], fields: ['price'], typenames: ['Product'], coordinates: ['Product.price'], stale: false },
    ]);
    expect(r.errors).toEqual([
      {
        message: '[pricing] timed out after 300 ms; Product.price returned as null',
        path: ['products', 0, 'price'],
        extensions: { code: 'SUBGRAPH_TIMEOUT', serviceName: 'pricing', breakerKey: 'pricing:Product', affectedPaths: [['products', 0, 'price'], ['products', 2, 'price']], affectedPathCount: 2 },
      },
    ]);
    expect(r.summary).toEqual([{ service: 'pricing', code: 'SUBGRAPH_TIMEOUT', reason: 'timed out after 300 ms', fields: ['Product.price'], count: 2, stale: false }]);
  });
});

describe('failure classification (the breaker errorFilter)', () => {
  it('counts connection errors, timeouts, 5xx and bad bodies; not 4xx, deadline, open breaker or bulkhead', () => {
    expect(['connection', 'timeout', 'http_5xx', 'bad_body'].every((k) => countsAsFailure(k as never))).toBe(true);
    expect(['http_4xx', 'deadline', 'circuit_open', 'bulkhead_full'].some((k) => countsAsFailure(k as never))).toBe(false);
  });
  it('maps by code, never by message text, and says nothing internal', () => {
    const refused = classifyFetchError(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.0.0.1:4002' } }), 100);
    expect(refused.kind).toBe('connection');
    expect(refused.reason).toBe('connection refused');
    expect(refused.code).toBe('SUBGRAPH_UNAVAILABLE');
    expect(classifyFetchError(new TimeoutReason('timeout'), 300).reason).toBe('timed out after 300 ms');
    expect(classifyFetchError(new TimeoutReason('deadline'), 120).code).toBe('SUBGRAPH_TIMEOUT');
    const already = new SubgraphFailure('circuit_open', 'x');
    expect(classifyFetchError(already, 1)).toBe(already);
  });
});

describe('retry budget, bulkhead, policies', () => {
  it('retries stay within 10 % of traffic plus a floor', () => {
    const b = createRetryBudget({ ratio: 0.1, minPerWindow: 2, windowMs: 1000 });
    for (let i = 0; i < 100; i++) b.onRequest(0);
    let allowed = 0;
    for (let i = 0; i < 100; i++) if (b.tryRetry(1)) allowed++;
    expect(allowed).toBe(10);
    // A fresh window refills it.
    for (let i = 0; i < 10; i++) b.onRequest(5_000);
    expect(b.tryRetry(5_000)).toBe(true);
  });
  it('bulkhead fails fast at its limit and counts rejections', () => {
    const b = createBulkhead(2);
    expect([b.tryAcquire(), b.tryAcquire(), b.tryAcquire()]).toEqual([true, true, false]);
    expect(b.rejected).toBe(1);
    b.release();
    expect(b.tryAcquire()).toBe(true);
  });
  it('key settings win over subgraph settings over defaults', () => {
    const p = policyResolver({ timeoutMs: 2000, timeouts: { pricing: 800, 'pricing:Query.x': 100 }, fallbacks: { 'review:Product': 'stale' }, slowCallMs: undefined });
    expect(p('pricing', 'pricing:Product')).toEqual({ timeoutMs: 800, fallback: 'null', slowCallMs: 400 });
    expect(p('pricing', 'pricing:Query.x').timeoutMs).toBe(100);
    expect(p('review', 'review:Product')).toEqual({ timeoutMs: 2000, fallback: 'stale', slowCallMs: 1000 });
  });
});

describe('edges', () => {
  it('readiness: unready only while starting or draining, degraded says why', () => {
    expect(readinessOf('starting', []).ready).toBe(false);
    expect(readinessOf('draining', []).ready).toBe(false);
    const r = readinessOf('ready', [{ key: 'pricing:Product', subgraph: 'pricing', state: 'open', window: { fires: 1, failures: 1, rejects: 0, successes: 0, recent: 0, slow: 0 }, slowCallMs: 1000, openedAt: undefined, openReason: 'failures' }]);
    expect(r).toEqual({ ready: true, body: { status: 'degraded', reasons: ['breaker pricing:Product is open'] } });
  });
  it('request id and traceparent: accepted when well-formed, replaced otherwise', () => {
    expect(requestIdFrom('abc-123')).toBe('abc-123');
    expect(requestIdFrom('bad id\nwith newline')).toMatch(/^[0-9a-f-]{36}$/);
    const tp = traceparentFrom('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(tp).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(tp).not.toContain('b7ad6b7169203331');
    expect(traceparentFrom('garbage')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
  it('security links Portico enforces lose only their purpose', () => {
    const sdl = '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)\n@link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)';
    expect(prepareForGateway(sdl)).toBe('@link(url: "https://specs.apollo.dev/authenticated/v0.1")\n@link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)');
  });
});

describe('StaleWriteSampler', () => {
  it('stores one answer per scope per interval; other scopes are independent', () => {
    let now = 0;
    const sampler = new StaleWriteSampler(100, 100, () => now);
    expect(sampler.due('review:Product|doc|')).toBe(true);
    expect(sampler.due('review:Product|doc|')).toBe(false);
    expect(sampler.due('review:Product|doc|{"reviews":3}')).toBe(true);
    now = 99;
    expect(sampler.due('review:Product|doc|')).toBe(false);
    now = 100;
    expect(sampler.due('review:Product|doc|')).toBe(true);
  });

  it('starts over when the scope table is full, so memory stays bounded', () => {
    const sampler = new StaleWriteSampler(60_000, 2, () => 0);
    expect(sampler.due('a')).toBe(true);
    expect(sampler.due('b')).toBe(true);
    expect(sampler.due('c')).toBe(true); // table full: cleared, then c noted
    expect(sampler.due('a')).toBe(true);
    expect(sampler.due('c')).toBe(false);
  });
});

describe('what counts against a breaker', () => {
  it('our deadline and a client gone do not; a timeout, a reset and a 5xx do', () => {
    expect(countsAgainstBreaker(new TimeoutReason('deadline'))).toBe(false);
    expect(countsAgainstBreaker(new TimeoutReason('client_gone'))).toBe(false);
    expect(countsAgainstBreaker(new TimeoutReason('timeout'))).toBe(true);
    expect(countsAgainstBreaker(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(countsAgainstBreaker(new SubgraphFailure('http_5xx', 'answered HTTP 503'))).toBe(true);
    expect(countsAgainstBreaker(new SubgraphFailure('bulkhead_full', 'full'))).toBe(false);
  });

  it('a burst of calls ended by clients going away leaves the breaker closed; the same burst of timeouts opens it', async () => {
    const breakers = createBreakerRegistry({ volumeThreshold: 5 }, { logger: createLogger({ level: 'silent' }) });
    try {
      for (let i = 0; i < 20; i++) await breakers.fire('products', 'products:Product', () => Promise.reject(new TimeoutReason('client_gone'))).catch(() => undefined);
      expect(breakers.snapshot().find((b) => b.key === 'products:Product')?.state).toBe('closed');
      for (let i = 0; i < 20; i++) await breakers.fire('products', 'products:User', () => Promise.reject(new TimeoutReason('timeout'))).catch(() => undefined);
      expect(breakers.snapshot().find((b) => b.key === 'products:User')?.state).toBe('open');
    } finally {
      breakers.shutdown();
    }
  });
});
