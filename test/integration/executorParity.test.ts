/**
 * Degradation through either executor: two Porticos on the same mocks, one on Portico's executor
 * and one on @apollo/gateway's (PORTICO_EXECUTOR), meet every fault a subgraph can have (the
 * chaos suite's fault modes, on a plain and on a `stale` field group) in the same order; their
 * answers must be identical: data, error messages, codes and paths, and `extensions.degraded`.
 * Only measured times inside messages ("after 301 ms") may differ.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAllMocks, subgraphUrlOverrides, type FaultState, type RunningMocks } from '../../subgraphs-mock/index.ts';
import { gql, PRODUCT_PAGE, startPortico, type RunningPortico } from '../helpers/portico.ts';

let mocks: RunningMocks;
let ours: RunningPortico;
let apollos: RunningPortico;

beforeAll(async () => {
  mocks = await startAllMocks({ ports: { product: 0, pricing: 0, inventory: 0, review: 0 }, faultsFromEnv: false });
  const env = {
    NODE_ENV: 'production',
    PORTICO_SUBGRAPH_URLS: Object.entries(subgraphUrlOverrides(mocks.mocks)).map(([k, v]) => `${k}=${v}`).join(','),
    PORTICO_SUBGRAPH_TIMEOUT_MS: '300',
    // Breakers open only on volume this suite never reaches: each case meets the fault itself.
    PORTICO_BREAKER_VOLUME_THRESHOLD: '1000',
    PORTICO_FALLBACKS: 'review=stale',
    // Introspection mixed into data operations is shaped by the executor too.
    PORTICO_INTROSPECTION: 'on',
  };
  [ours, apollos] = await Promise.all([startPortico({ ...env, PORTICO_EXECUTOR: 'portico' }), startPortico({ ...env, PORTICO_EXECUTOR: 'apollo' })]);
});
afterAll(async () => {
  await ours?.stop();
  await apollos?.stop();
  await mocks?.stop();
});

const FAULTS: [string, Partial<FaultState>][] = [
  ['healthy', {}],
  ['refuse', { mode: 'refuse' }],
  ['hang', { mode: 'hang' }],
  ['garbage', { mode: 'garbage' }],
  ['graphql-error', { mode: 'graphql-error' }],
  ['HTTP 500', { errorRate: 1, httpStatus: 500 }],
  ['HTTP 502 (HTML)', { errorRate: 1, httpStatus: 502 }],
  ['huge', { mode: 'huge' }],
  ['slow past the timeout', { latencyMs: 1_000 }],
];

/** The answer with measured durations blanked, for comparison. */
function comparable(body: unknown): unknown {
  return JSON.parse(JSON.stringify(body).replace(/\d+ ms/g, 'N ms'));
}

it('both executors answer every fault case alike, errors and extensions.degraded included', async () => {
  const cases: string[] = [];
  for (const subgraph of ['pricing', 'review'] as const) {
    for (const [name, fault] of FAULTS) {
      mocks.mocks[subgraph].faults.set(fault);
      const variables = { first: 6 };
      const [mine, theirs] = await Promise.all([gql(ours.graphqlUrl, PRODUCT_PAGE, variables), gql(apollos.graphqlUrl, PRODUCT_PAGE, variables)]);
      mocks.mocks[subgraph].faults.reset();
      expect.soft(mine.status, `${subgraph} ${name}: status`).toBe(theirs.status);
      expect.soft(comparable(mine.body), `${subgraph} ${name}: body`).toEqual(comparable(theirs.body));
      if (name !== 'healthy') expect(theirs.body.errors?.length ?? 0, `${subgraph} ${name} is a fault the gateway reports`).toBeGreaterThan(0);
      cases.push(`${subgraph} ${name}`);
    }
  }
  expect(cases).toHaveLength(2 * FAULTS.length);
});

it('variables the operation cannot take are refused alike, before any plan runs', async () => {
  const query = 'query ($n: Int!, $c: String) { products(first: $n, category: $c) { id } }';
  for (const variables of [{ n: 'x' }, {}, { n: 2, c: 3 }]) {
    const [mine, theirs] = await Promise.all([gql(ours.graphqlUrl, query, variables), gql(apollos.graphqlUrl, query, variables)]);
    expect(theirs.body.errors?.length, JSON.stringify(variables)).toBeGreaterThan(0);
    expect(mine.status).toBe(theirs.status);
    expect(mine.body).toEqual(theirs.body);
  }
});

it('introspection fields beside data, with aliases, variables and __typename, answer alike', async () => {
  const query = `query ($t: String!, $first: Int = 2) {
    s: __schema { queryType { name } }
    t: __type(name: $t) { name kind fields { name } }
    __typename
    products(first: $first) { __typename id kind: __typename price { amount } }
  }`;
  for (const variables of [{ t: 'Product' }, { t: 'Nope', first: 1 }]) {
    const [mine, theirs] = await Promise.all([gql(ours.graphqlUrl, query, variables), gql(apollos.graphqlUrl, query, variables)]);
    expect(theirs.status).toBe(200);
    expect(theirs.body.data?.s?.queryType?.name).toBe('Query');
    expect(mine.status).toBe(theirs.status);
    expect(mine.body).toEqual(theirs.body);
  }
});
