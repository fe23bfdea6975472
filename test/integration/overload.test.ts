/**
 * Priority load shedding (issue 18): an instance pushed past its threshold answers 503
 * OVERLOADED + Retry-After to anonymous and free traffic while premium is still served, stays
 * live and ready, and on default thresholds refuses nothing of ordinary traffic.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../devkit/wait.ts';
import { startAllMocks, subgraphUrlOverrides, type RunningMocks } from '../../subgraphs-mock/index.ts';
import { startPortico, type RunningPortico } from '../helpers/portico.ts';

const PAGE = JSON.stringify({ query: '{ products(first: 3) { id name price { amount currency } } }' });
const KEYS = { premium: 'premium-key-7', free: 'free-key-7' };
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
// Long enough that the probes below all arrive while the 15 are held, even on a busy machine.
const PRICING_LATENCY_MS = 2_000;
const MAX_IN_FLIGHT = 10;

interface Answer {
  status: number;
  headers: Headers;
  code: unknown;
  ms: number;
}

async function post(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: PAGE });
  const body = (await res.json()) as { errors?: { extensions?: { code?: unknown } }[] };
  return { status: res.status, headers: res.headers, code: body.errors?.[0]?.extensions?.code, ms: performance.now() - started };
}

async function metric(gw: RunningPortico, line: RegExp): Promise<number> {
  const m = line.exec(await (await fetch(`${gw.opsUrl}/metrics`)).text());
  return m ? Number(m[1]) : 0;
}

let mocks: RunningMocks;
let urls: string;
beforeAll(async () => {
  mocks = await startAllMocks({ ports: { product: 0, pricing: 0, inventory: 0, review: 0 }, faultsFromEnv: false });
  urls = Object.entries(subgraphUrlOverrides(mocks.mocks)).map(([k, v]) => `${k}=${v}`).join(',');
});
afterAll(async () => {
  await mocks?.stop();
});

describe('an instance past its in-flight threshold', () => {
  let gw: RunningPortico;
  beforeAll(async () => {
    gw = await startPortico({
      PORTICO_SUBGRAPH_URLS: urls,
      PORTICO_API_KEYS: `${sha256(KEYS.premium)}=premium,${sha256(KEYS.free)}=free`,
      PORTICO_RATE_LIMITS: 'anonymous=100000/1m,free=100000/1m,premium=100000/1m',
      // A tight fixed threshold on the instant signal; the delay signals (and so the adaptive
      // limit) off so the test is exact.
      PORTICO_OVERLOAD_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
      PORTICO_OVERLOAD_EVENT_LOOP_DELAY_MS: '0',
      PORTICO_OVERLOAD_STANDING_DELAY_MS: '0',
    });
  });
  afterAll(async () => {
    mocks.mocks.pricing.faults.reset();
    await gw?.stop();
  });

  it('sheds anonymous and free with 503 OVERLOADED + Retry-After, serves premium, stays live and ready', async () => {
    mocks.mocks.pricing.faults.set({ latencyMs: PRICING_LATENCY_MS });
    const premium = { 'x-api-key': KEYS.premium };
    // 15 slow premium requests in flight: pressure 1.5, past anonymous' (1.0) and free's (1.5) points.
    const holding = Array.from({ length: 15 }, () => post(gw.graphqlUrl, premium));
    await until('15 requests in flight', async () => (await metric(gw, /^portico_overload_in_flight_requests (\d+)/m)) >= 15);
    const [anonymous, free, more] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, () => post(gw.graphqlUrl))),
      Promise.all(Array.from({ length: 10 }, () => post(gw.graphqlUrl, { 'x-api-key': KEYS.free }))),
      // Premium is shed only from 2.0 (20 in flight): these four still get in.
      Promise.all(Array.from({ length: 4 }, () => post(gw.graphqlUrl, premium))),
    ]);
    const live = await fetch(`${gw.url}/health/live`);
    const ready = await fetch(`${gw.url}/health/ready`);
    const held = await Promise.all(holding);

    for (const a of [...anonymous, ...free]) {
      expect(a).toMatchObject({ status: 503, code: 'OVERLOADED' });
      expect(a.headers.get('retry-after')).toBe('2');
    }
    const premiumAnswers = [...held, ...more];
    expect(premiumAnswers.map((a) => a.status)).toEqual(premiumAnswers.map(() => 200));
    // Shed requests are refused before anything runs: fast, whatever the subgraph latency.
    expect(Math.max(...[...anonymous, ...free].map((a) => a.ms))).toBeLessThan(PRICING_LATENCY_MS);
    // An overloaded instance is still live and ready (docs/overload.md, "Readiness").
    expect([live.status, ready.status]).toEqual([200, 200]);
    expect(await metric(gw, /^portico_overload_shed_total\{tier="anonymous"\} (\d+)/m)).toBe(10);
    expect(await metric(gw, /^portico_overload_shed_total\{tier="free"\} (\d+)/m)).toBe(10);
    expect(await metric(gw, /^portico_overload_shed_total\{tier="premium"\} (\d+)/m)).toBe(0);
    // Nearest rank: with 19 samples, the slowest.
    const sorted = premiumAnswers.map((a) => a.ms).sort((a, b) => a - b);
    const p99 = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
    // Bound: the subgraph's latency plus 5 s. Measured 2.2-5.7 s on a shared two-core host (load
    // average 8-17, the whole test in one process); the subgraph alone takes 2 s.
    expect(p99).toBeLessThan(PRICING_LATENCY_MS + 5_000);
    console.log(`[measured] shedding at ${MAX_IN_FLIGHT} in flight: anonymous 10/10 and free 10/10 shed (max ${Math.max(...[...anonymous, ...free].map((a) => a.ms)).toFixed(0)} ms), premium 19/19 served, p99 ${p99.toFixed(0)} ms with a ${PRICING_LATENCY_MS} ms subgraph`);

    // Once the load is gone (and the 2 s hold is over), every tier is served again.
    await until('in flight back to 0', async () => (await metric(gw, /^portico_overload_in_flight_requests (\d+)/m)) === 0);
    await until('no tier shed', async () => (await metric(gw, /^portico_overload_shed_tiers (\d+)/m)) === 0, { timeoutMs: 10_000 });
    mocks.mocks.pricing.faults.reset();
    expect((await post(gw.graphqlUrl)).status).toBe(200);
  });
});

describe('default thresholds', () => {
  it('refuse nothing of ordinary traffic (400 product pages, 20 at a time, anonymous and premium mixed)', async () => {
    // Premium present, so anonymous could be shed in its favour: only the thresholds hold it back.
    const gw = await startPortico({
      PORTICO_SUBGRAPH_URLS: urls,
      PORTICO_RATE_LIMITS: 'anonymous=100000/1m,premium=100000/1m',
      PORTICO_API_KEYS: `${sha256(KEYS.premium)}=premium`,
    });
    try {
      expect(gw.config.overload).toMatchObject({ enabled: true, eventLoopDelayMs: 250, maxInFlight: 0 });
      const statuses: number[] = [];
      const delays: number[] = [];
      for (let batch = 0; batch < 20; batch++) {
        delays.push(await metric(gw, /^portico_overload_event_loop_delay_seconds (\S+)/m));
        const page = (i: number) => post(gw.graphqlUrl, i % 4 === 0 ? { 'x-api-key': KEYS.premium } : {});
        statuses.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => page(i)))).map((a) => a.status));
      }
      console.log(`[measured] default thresholds, 400 pages 20 at a time: 0 shed, sustained event-loop delay read at most ${(Math.max(...delays) * 1000).toFixed(0)} ms (threshold 250)`);
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect(await metric(gw, /^portico_overload_shed_total\{tier="anonymous"\} (\d+)/m)).toBe(0);
    } finally {
      await gw.stop();
    }
  });
});
