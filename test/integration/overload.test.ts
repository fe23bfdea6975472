/**
 * Priority load shedding (issue 18): an instance pushed past its threshold answers 503
 * OVERLOADED + Retry-After to anonymous and free traffic while premium is still served, stays
 * live and ready; on default settings an instance pushed past its CPU capacity learns a limit
 * and sheds anonymous and free before premium, and ordinary traffic is never refused.
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

/** Page `n` of the catalogue: distinct requests are not merged by the inbound dedup. */
const pageAt = (n: number) => JSON.stringify({ query: `{ products(first: 3, offset: ${n % 500}) { id name price { amount currency } } }` });

async function post(url: string, headers: Record<string, string> = {}, page = PAGE): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: page });
  const body = (await res.json()) as { errors?: { extensions?: { code?: unknown } }[] };
  return { status: res.status, headers: res.headers, code: body.errors?.[0]?.extensions?.code, ms: performance.now() - started };
}

async function metric(gw: RunningPortico, line: RegExp): Promise<number> {
  const m = line.exec(await (await fetch(`${gw.opsUrl}/metrics`)).text());
  return m ? Number(m[1]) : 0;
}

type Tier = 'premium' | 'free' | 'anonymous';
const TIERS: readonly Tier[] = ['premium', 'free', 'anonymous'];
const headersOf = (tier: Tier): Record<string, string> => (tier === 'anonymous' ? {} : { 'x-api-key': KEYS[tier] });
/** Worker i's tier: one in ten premium, three free, six anonymous (the benchmark's mix). */
const benchMix = (i: number): Tier => (i % 10 === 0 ? 'premium' : i % 10 <= 3 ? 'free' : 'anonymous');

interface Tally {
  sent: number;
  ok: Record<Tier, number>;
  shed: Record<Tier, number>;
  /** 200 with a GraphQL error (a degraded page: a slow subgraph call on a crowded host). */
  degraded: Record<Tier, number>;
  /** Any other status, with its GraphQL code. */
  other: string[];
  overloadedCodes: Set<unknown>;
}

/**
 * A closed loop: `workers` clients each sending the next request as soon as the last is answered,
 * until `done(tally)` or `maxRequests` in all.
 */
async function closedLoop(url: string, workers: number, maxRequests: number, done: (t: Tally) => boolean = () => false, tierOfWorker = benchMix): Promise<Tally> {
  const zero = (): Record<Tier, number> => ({ premium: 0, free: 0, anonymous: 0 });
  const t: Tally = { sent: 0, ok: zero(), shed: zero(), degraded: zero(), other: [], overloadedCodes: new Set() };
  let stop = false;
  await Promise.all(
    Array.from({ length: workers }, async (_, i) => {
      const tier = tierOfWorker(i);
      while (!stop && t.sent < maxRequests) {
        const a = await post(url, headersOf(tier), pageAt(t.sent++));
        if (a.status === 200 && a.code === undefined) t.ok[tier]++;
        else if (a.status === 200) t.degraded[tier]++;
        else if (a.status === 503) {
          t.shed[tier]++;
          t.overloadedCodes.add(a.code);
        } else t.other.push(`${tier}: ${a.status} ${String(a.code)}`);
        if (done(t)) stop = true;
      }
    }),
  );
  return t;
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

const withTiers = {
  PORTICO_API_KEYS: `${sha256(KEYS.premium)}=premium,${sha256(KEYS.free)}=free`,
  PORTICO_RATE_LIMITS: 'anonymous=1000000/1m,free=1000000/1m,premium=1000000/1m',
};

describe('an instance past its CPU capacity, on default settings', () => {
  let gw: RunningPortico;
  beforeAll(async () => {
    // Overload settings all default. The entity cache off, so that every page reaches the
    // costly subgraph below (with it, prices are answered from memory for 60 s).
    gw = await startPortico({ PORTICO_SUBGRAPH_URLS: urls, ...withTiers, PORTICO_CACHE_ENABLED: 'false' });
  });
  afterAll(async () => {
    mocks.mocks.pricing.faults.reset();
    await gw?.stop();
  });

  it('learns an in-flight limit and sheds the lowest tiers first, premium never', async () => {
    expect(gw.config.overload).toMatchObject({ enabled: true, standingDelayMs: 20, maxInFlight: 0 });
    // Every page's price costs 6 ms of CPU in this process (the gateway's own): 40 clients in a
    // closed loop (4 premium, 12 free, 24 anonymous) keep far more work queued on the event loop
    // than it can drain.
    mocks.mocks.pricing.faults.set({ cpuMs: 6 });
    const t = await closedLoop(gw.graphqlUrl, 40, 3_000, (x) => x.shed.anonymous >= 50 && x.ok.premium >= 40);
    const limit = await metric(gw, /^portico_overload_adaptive_limit (\S+)/m);
    mocks.mocks.pricing.faults.reset();
    const sent = (tier: Tier) => t.ok[tier] + t.shed[tier] + t.degraded[tier];
    console.log(
      `[measured] 40 clients, 6 ms CPU per page, defaults: ${TIERS.map((tier) => `${tier} ${t.shed[tier]}/${sent(tier)} shed, ${t.degraded[tier]} degraded`).join('; ')}; adaptive limit ${limit}`,
    );

    expect(t.other).toEqual([]);
    expect([...t.overloadedCodes]).toEqual(['OVERLOADED']);
    expect(t.shed.premium).toBe(0);
    expect(t.ok.premium).toBeGreaterThanOrEqual(40);
    expect(t.shed.anonymous).toBeGreaterThanOrEqual(50);
    // Lowest tier first: anonymous is shed whenever free is (free from 1.5× the limit, and only
    // if shedding anonymous did not bring the in-flight count down enough), so a larger share.
    expect(t.shed.anonymous / sent('anonymous')).toBeGreaterThan(t.shed.free / sent('free'));
    expect(limit).toBeGreaterThan(0);
    expect(await metric(gw, /^portico_overload_shed_total\{tier="premium"\} (\d+)/m)).toBe(0);

    // The load gone (and the 2 s hold over), every tier is served again; the limit stays learned.
    await until('no tier shed', async () => (await metric(gw, /^portico_overload_shed_tiers (\d+)/m)) === 0, { timeoutMs: 15_000 });
    expect((await post(gw.graphqlUrl)).status).toBe(200);
  });
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

  // 12 clients keep the loop busy all the time in this one process (clients, mocks, gateway);
  // on a crowded host that reads as a standing queue (113 ms measured), but 12 in flight are
  // below the least limit, so it teaches no limit (src/overload/limit.ts).
  it('refuse nothing of a moderate closed-loop load (12 clients, 600 pages, every tier)', async () => {
    const gw = await startPortico({ PORTICO_SUBGRAPH_URLS: urls, ...withTiers });
    try {
      let standing = 0;
      const t = await closedLoop(gw.graphqlUrl, 12, 600, (x) => {
        if (x.sent % 100 === 0) void metric(gw, /^portico_overload_standing_delay_seconds (\S+)/m).then((v) => (standing = Math.max(standing, v)));
        return false;
      });
      const limit = await metric(gw, /^portico_overload_adaptive_limit (\S+)/m);
      console.log(`[measured] 12 clients, 600 pages: ${TIERS.map((tier) => `${tier} ${t.ok[tier]} served`).join(', ')}; standing delay read at most ${(standing * 1000).toFixed(0)} ms (target 20), adaptive limit ${limit || 'none'}`);
      expect(t.other).toEqual([]);
      expect(t.degraded).toEqual({ premium: 0, free: 0, anonymous: 0 });
      expect(t.shed).toEqual({ premium: 0, free: 0, anonymous: 0 });
      expect(t.ok.premium + t.ok.free + t.ok.anonymous).toBeGreaterThanOrEqual(600);
    } finally {
      await gw.stop();
    }
  });
});
