import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUrlOverrides } from '../../bench/lib/supergraph.ts';
import { startPublicSubgraphs, type RunningPublicSubgraphs } from '../../bench/public/server.ts';
import { demoOperations, PUBLIC_BENCHMARK_QUERY } from '../fixtures/knownQueries.ts';
import { gql, PRODUCT_PAGE, startPortico, startStack, type RunningPortico, type Stack } from '../helpers/portico.ts';
import { sampleValue, scrape } from '../helpers/promText.ts';
import { until } from '../../devkit/wait.ts';

/** The access line of a request, by the request id the test sent. */
function accessLine(gw: RunningPortico, requestId: string) {
  return until(`the access line of ${requestId}`, () => gw.logs.find((l) => l.event === 'access' && l.requestId === requestId)[0], 5_000);
}

describe('the public benchmark on default settings', () => {
  let subgraphs: RunningPublicSubgraphs;
  let gw: RunningPortico;
  beforeAll(async () => {
    subgraphs = await startPublicSubgraphs({ port: 0, delayMs: 0 });
    gw = await startPortico({ PORTICO_SUPERGRAPH_PATH: 'bench/public/supergraph.graphql', PORTICO_SUBGRAPH_URLS: formatUrlOverrides(subgraphs.urls) });
  });
  afterAll(async () => {
    await gw?.stop();
    await subgraphs?.stop();
  });

  it('TestQuery is answered whole, and its estimate, actual cost and fetches are recorded', async () => {
    const r = await gql(gw.graphqlUrl, PUBLIC_BENCHMARK_QUERY, undefined, { 'x-request-id': 'bench-testquery' });
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.users).toHaveLength(6);
    expect(r.body.data.topProducts).toHaveLength(5);

    const line = await accessLine(gw, 'bench-testquery');
    expect(line.costEstimated).toBe(23_315);
    // The answer holds a few hundred objects: the estimate is an upper bound, tens of times above.
    expect(line.costActual).toBeGreaterThan(100);
    expect(line.costActual).toBeLessThan(line.costEstimated as number);
    expect(line.subgraphFetches).toBeGreaterThanOrEqual(8);

    const f = await scrape(gw.opsUrl);
    expect(sampleValue(f, 'portico_operation_cost_estimated_objects_sum')).toBe(23_315);
    expect(sampleValue(f, 'portico_operation_cost_actual_objects_sum')).toBe(line.costActual);
    expect(sampleValue(f, 'portico_operation_cost_estimate_ratio_count')).toBe(1);
    expect(sampleValue(f, 'portico_operation_cost_estimate_ratio_sum')).toBeCloseTo(23_315 / (line.costActual as number), 6);
    expect(sampleValue(f, 'portico_operation_subgraph_fetches_sum')).toBe(line.subgraphFetches);
    expect(sampleValue(f, 'portico_operation_cost_over_limit_total', { mode: 'enforce' })).toBe(0);
  });
});

describe('the demo on default settings', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(() => s?.stop());

  it('no operation of the demo app is refused by the cost limit', async () => {
    const operations = demoOperations();
    // The varied pool is large; its biggest pages and every fixed operation are sent.
    const sent = [...operations.filter((op) => op.name !== 'bench product-page-varied'), ...operations.filter((op) => op.name === 'bench product-page-varied').slice(0, 8)];
    for (const op of sent) {
      const r = await s.gql(op.query, op.variables);
      const codes = (r.body.errors ?? []).map((e: any) => e.extensions?.code);
      expect(codes, op.name).not.toContain('QUERY_TOO_COMPLEX');
      expect(r.status, op.name).toBe(200);
      // The mutation needs a signed-in user (authentication is off here): only it may carry errors.
      if (op.name !== 'add a review') expect(r.body.errors, op.name).toBeUndefined();
    }
    const f = await scrape(s.gw.opsUrl);
    expect(sampleValue(f, 'portico_operation_cost_over_limit_total', { mode: 'enforce' })).toBe(0);
    expect(sampleValue(f, 'portico_operation_cost_estimated_objects_count')).toBe(sent.length);
  });
});

describe('enforce mode with a low limit', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ PORTICO_COST_MODE: 'enforce', PORTICO_MAX_COST: '50' });
  });
  afterAll(() => s?.stop());

  it('refuses an operation estimated above it: 400 QUERY_TOO_COMPLEX with the figures, no subgraph called', async () => {
    const r = await s.gql(PRODUCT_PAGE, undefined, { 'x-request-id': 'cost-enforced' });
    expect(r.status).toBe(400);
    expect(r.body.data).toBeUndefined();
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors[0].extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', measured: 120, limit: 50 });
    expect(Object.values(s.mocks.mocks).map((m) => m.stats().requests)).toEqual([0, 0, 0, 0]);
    const line = await accessLine(s.gw, 'cost-enforced');
    expect(line).toMatchObject({ status: 400, costEstimated: 120 });
    expect(line.costActual).toBeUndefined();
    const f = await scrape(s.gw.opsUrl);
    expect(sampleValue(f, 'portico_operation_cost_over_limit_total', { mode: 'enforce' })).toBe(1);
    expect(sampleValue(f, 'portico_graphql_errors_total', { code: 'QUERY_TOO_COMPLEX' })).toBe(1);
  });

  it('serves an operation within it', async () => {
    const r = await s.gql('{ products(first: 2) { id name price { amount } } }');
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
  });
});

describe('measure mode with a low limit', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ PORTICO_COST_MODE: 'measure', PORTICO_MAX_COST: '50' });
  });
  afterAll(() => s?.stop());

  it('serves the operation and records that it was over the limit', async () => {
    const r = await s.gql(PRODUCT_PAGE, undefined, { 'x-request-id': 'cost-measured' });
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.products).toHaveLength(20);
    const line = await accessLine(s.gw, 'cost-measured');
    expect(line.costEstimated).toBe(120);
    // 20 products, each with price, inventory and its reviews (at most 3): at most the estimate.
    expect(line.costActual).toBeGreaterThanOrEqual(60);
    expect(line.costActual).toBeLessThanOrEqual(120);
    // One fetch per subgraph: products, then pricing, inventory and reviews in parallel.
    expect(line.subgraphFetches).toBe(4);
    const f = await scrape(s.gw.opsUrl);
    expect(sampleValue(f, 'portico_operation_cost_over_limit_total', { mode: 'measure' })).toBe(1);
    expect(sampleValue(f, 'portico_operation_cost_over_limit_total', { mode: 'enforce' })).toBe(0);
  });
});
