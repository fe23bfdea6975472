import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startAllMocks, subgraphUrlOverrides, type RunningMocks } from '../../subgraphs-mock/index.ts';
import { spawnGateway } from '../helpers/gatewayProcess.ts';
import { until } from '../../devkit/wait.ts';

let mocks: RunningMocks;
let urls: string;
beforeAll(async () => {
  mocks = await startAllMocks({ ports: { product: 0, pricing: 0, inventory: 0, review: 0 }, faultsFromEnv: false });
  urls = Object.entries(subgraphUrlOverrides(mocks.mocks)).map(([k, v]) => `${k}=${v}`).join(',');
});
afterAll(() => mocks.stop());
beforeEach(() => {
  for (const m of Object.values(mocks.mocks)) m.faults.reset();
});

const PAGE = JSON.stringify({ query: '{ products(first: 2) { id price { amount } } }' });
const post = (url: string) => fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: PAGE });
const ready = async (url: string) => (await fetch(`${url}/health/ready`)).status;

it('SIGTERM: readiness 503 at once, keeps serving through the drain delay, finishes in-flight work, exits 0', async () => {
  const gw = await spawnGateway({ PORTICO_SUBGRAPH_URLS: urls, PORTICO_DRAIN_DELAY_MS: '1500', PORTICO_SHUTDOWN_GRACE_MS: '5000', PORTICO_RATE_LIMIT_ENABLED: 'false' });
  expect(await ready(gw.url)).toBe(200);
  mocks.mocks.pricing.faults.set({ latencyMs: 1_200 });
  const inFlight = post(gw.url);
  await until('the slow request to reach pricing', () => mocks.mocks.pricing.stats().inFlight > 0);
  gw.kill('SIGTERM');
  await until('readiness to turn 503', async () => (await ready(gw.url)) === 503, 2_000);
  // Still serving during the delay: the load balancer has not noticed yet.
  mocks.mocks.pricing.faults.reset();
  const during = await post(gw.url);
  expect(during.status).toBe(200);
  expect(during.headers.get('connection')).toBe('close');
  const slow = await inFlight;
  expect(slow.status).toBe(200);
  const body = (await slow.json()) as any;
  expect(body.errors).toBeUndefined();
  expect(await gw.exited).toBe(0);
  expect(gw.output()).toMatch(/"phase":"done","clean":true/);
});

it('a second SIGTERM forces the exit', async () => {
  const gw = await spawnGateway({ PORTICO_SUBGRAPH_URLS: urls, PORTICO_DRAIN_DELAY_MS: '30000' });
  gw.kill('SIGTERM');
  await until('draining', async () => (await ready(gw.url)) === 503, 2_000);
  gw.kill('SIGTERM');
  expect(await gw.exited).toBe(1);
});

it('the grace deadline cuts requests that will not finish, and the exit says so', async () => {
  const gw = await spawnGateway({ PORTICO_SUBGRAPH_URLS: urls, PORTICO_DRAIN_DELAY_MS: '0', PORTICO_SHUTDOWN_GRACE_MS: '300', PORTICO_SUBGRAPH_TIMEOUT_MS: '20000', PORTICO_REQUEST_DEADLINE_MS: '20000' });
  mocks.mocks.pricing.faults.set({ mode: 'hang' });
  const hung = post(gw.url).then((r) => r.status, () => 'cut');
  await until('the request to hang in pricing', () => mocks.mocks.pricing.stats().inFlight > 0);
  gw.kill('SIGTERM');
  expect(await gw.exited).toBe(1);
  expect(await hung).toBe('cut');
  expect(gw.output()).toMatch(/"phase":"forced"/);
});
