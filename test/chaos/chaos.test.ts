/**
 * The chaos suite: the whole system on its defaults, under load, while its parts misbehave the
 * way real ones do. The topology of `npm run cluster` (three gateway processes behind HAProxy
 * with deploy/haproxy/haproxy.cfg, a private redis-server, the mocks and dev IdP) on free ports;
 * an open-loop load of varied product pages through HAProxy and a trickle of mutations, never
 * paused; and a scripted fault schedule, one fault per phase (schedule.ts).
 *
 * Asserted: counts and bounds on state transitions — 0 non-200 and 0 unanswered requests from
 * healthy instances, 0 pages missing a product name, each breaker opened within its bound on
 * every instance and closed again within reset + one probe, breakers that must not open did
 * not, mutations applied at most once. Recorded, not asserted: latencies (the machine is shared).
 * The per-phase table goes to test-artifacts/chaos.md (and .json).
 *
 * `npm test` runs the short schedule; `npm run chaos` the full one (PORTICO_CHAOS_SCHEDULE=full).
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../scripts/cluster/index.ts';
import { startTestCluster } from '../helpers/cluster.ts';
import { DEFAULT_BREAKER_RESET_MS } from '../../src/resilience/breakers.ts';
import { DEFAULT_SUBGRAPH_TIMEOUT_MS } from '../../src/config/index.ts';
import { signDevToken } from '../../subgraphs-mock/idp.ts';
import { isUp, waitForServer } from '../../devkit/haproxy.ts';
import { until } from '../../devkit/wait.ts';
import { startLoad, warmUp, type LoadReport, type RunningLoad } from '../cluster/load.ts';
import { createBreakerWatch, type BreakerWatch } from './breakerWatch.ts';
import { chaosSchedule, type PhaseContext, type PhaseSpec } from './schedule.ts';
import { pageMix, pageProblem } from './pages.ts';

const FULL = process.env.PORTICO_CHAOS_SCHEDULE === 'full';
/** Product pages per second through HAProxy: the middle of the 50–150 the issue names. */
const RATE = 100;
/** Mutations per second alongside, each with a unique body, to prove at-most-once. */
const WRITE_RATE = 4;
/** A breaker of a hung or slow subgraph must be open on every instance within this of the fault. */
const OPEN_BOUND_MS = 3_000;
/** After the fault is lifted: the reset timeout, one probe (at most a call timeout) and the watch's poll. */
const CLOSE_BOUND_MS = DEFAULT_BREAKER_RESET_MS + DEFAULT_SUBGRAPH_TIMEOUT_MS + 1_500;

const runId = randomUUID().slice(0, 8);
let cluster: Cluster;
let workDir: string;
let supergraphPath: string;
let watch: BreakerWatch;
let pages: RunningLoad;
let writes: RunningLoad;
const answeredWrites = new Set<string>();
const rows: PhaseRow[] = [];
const began = performance.now();

interface PhaseRow {
  phase: string;
  sent: number;
  non200: number;
  unanswered: number;
  missingNames: number;
  p50Ms: number;
  p99Ms: number;
  /** p99 of pages sent after every instance's breaker was open, until the fault was lifted. */
  p99AfterOpenMs: number | null;
  codes: Record<string, number>;
  /** Per instance: ms from the fault to its breaker opening (null: never opened). */
  openedAfterMs: (number | null)[];
  /** Per instance: ms from lifting the fault to every breaker of the subgraph closed again. */
  closedAfterMs: (number | null)[];
  /** Non-200 or unanswered requests this phase may have (a SIGKILL's); 0 for every other fault. */
  lossAllowed: number;
  notes: string;
  /** A few distinct non-200 answers and problems, for whoever reads a failure. */
  examples?: string[];
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'portico-chaos-'));
  supergraphPath = join(workDir, 'supergraph.graphql');
  copyFileSync('schemas/supergraph.graphql', supergraphPath);
  // The mocks send no cache hints here (the gateways keep their defaults, cache on): the breaker
  // phases need the load to reach the faulted subgraph, and a warm cache answers nearly every
  // page, so a hung pricing would see too few calls to open its breaker (rightly: nothing
  // fails). Caching under faults is test/integration/cache.test.ts's and bench:cache's.
  process.env.PORTICO_MOCK_CACHE_HINTS = 'false';
  cluster = await startTestCluster(workDir, {
    // Defaults only: the cluster's own settings (those of `npm start`), nothing tuned for this suite.
    gatewayEnv: { PORTICO_SUPERGRAPH_PATH: supergraphPath },
    // Every fresh process (at the start, and after the SIGKILL and SIGTERM phases) answers a
    // warm-up before it takes traffic, as in the HA suite: cold processes on two shared cores
    // are several times slower for their first seconds (see test/cluster/ha.test.ts).
    warmUp: (g) => warmUp(g.url),
  });
  for (const g of ['gw1', 'gw2', 'gw3']) await waitForServer(cluster.lbStatsUrl, g, isUp);
  watch = createBreakerWatch(() => cluster.instances.map((g) => g.opsUrl));
  const token = await signDevToken({ sub: `chaos-${runId}`, scopes: ['review:write'], tier: 'premium' });
  pages = startLoad({ ratePerSecond: RATE, request: pageMix(cluster.lbUrl), check: pageProblem, keepBodies: true });
  writes = startLoad({
    ratePerSecond: WRITE_RATE,
    request: (n) => ({
      kind: 'addReview',
      method: 'POST',
      url: `${cluster.lbUrl}/graphql`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation Add($body: String!) { addReview(productId: "3", rating: 5, body: $body) { id body } }', variables: { body: `chaos ${runId} #${n}` } }),
    }),
    // A write may degrade (review down, breaker open): what matters is that it never lands twice.
    check: (body) => {
      const added = body?.data?.addReview;
      if (added?.body) answeredWrites.add(added.body as string);
      return undefined;
    },
  });
  // Under the load itself for a moment before the first phase: connections, JIT and plan
  // caches settle, and the samples of this warm-up belong to no phase.
  await new Promise((r) => setTimeout(r, 3_000));
}, 120_000);

afterAll(async () => {
  await pages?.stop();
  await writes?.stop();
  watch?.stop();
  await cluster?.stop();
  const table = renderTable(rows);
  mkdirSync('test-artifacts', { recursive: true });
  writeFileSync('test-artifacts/chaos.md', `${table}\n`);
  writeFileSync('test-artifacts/chaos.json', JSON.stringify({ schedule: FULL ? 'full' : 'short', rate: RATE, rows }, null, 2));
  process.stdout.write(`\n${table}\n`);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}, 60_000);

function renderTable(list: readonly PhaseRow[]): string {
  const ms = (v: number | null) => (v === null ? '–' : String(v));
  const lines = list.map(
    (r) =>
      `| ${r.phase} | ${r.sent} | ${r.non200} | ${r.unanswered} | ${r.missingNames} | ${r.p50Ms} | ${r.p99Ms} | ${ms(r.p99AfterOpenMs)} | ${r.openedAfterMs.map(ms).join(' / ')} | ${r.closedAfterMs.map(ms).join(' / ')} | ${Object.entries(r.codes).map(([c, n]) => `${c} ${n}`).join(', ') || '–'} | ${r.notes} |`,
  );
  return [
    `Chaos suite (${FULL ? 'full' : 'short'} schedule): ${RATE} req/s of varied product pages + ${WRITE_RATE} mutations/s through HAProxy, 3 gateway instances on default settings (run ${new Date().toISOString()})`,
    '',
    '| phase | sent | non-200 | unanswered | missing names | p50 ms | p99 ms | p99 after open ms | breaker opened after ms (gw1 / gw2 / gw3) | closed after recovery ms | codes seen | notes |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|',
    ...lines,
  ].join('\n');
}

/** The page samples sent within [from, to) (performance.now() ms). */
function samplesBetween(from: number, to: number) {
  return pages.samplesSoFar().filter((s) => s.startedAt >= from && s.startedAt < to);
}

function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!);
}

async function runPhase(spec: PhaseSpec): Promise<PhaseRow> {
  const ctx: PhaseContext = { cluster, supergraphPath, full: FULL, inFlight: () => pages.inFlight(), watch, closeBoundMs: CLOSE_BOUND_MS };
  // Each phase starts from the whole cluster in rotation: one phase's damage is not the next's.
  for (const g of ['gw1', 'gw2', 'gw3']) await waitForServer(cluster.lbStatsUrl, g, isUp, 20_000);
  const start = performance.now();
  const outcome = await spec.run(ctx);
  const end = performance.now();
  // Every request of the phase counts, the slowest too: wait for those still in flight.
  await until('the phase\'s requests to be answered', () => (pages.oldestInFlight() ?? Number.POSITIVE_INFINITY) >= end, 15_000, 50);
  const samples = samplesBetween(start, end);
  const codes: Record<string, number> = {};
  for (const s of samples) {
    for (const e of ((s.body as { errors?: { extensions?: { code?: string; serviceName?: string } }[] } | undefined)?.errors ?? [])) {
      const c = `${e.extensions?.code ?? 'none'}${e.extensions?.serviceName ? ` (${e.extensions.serviceName})` : ''}`;
      codes[c] = (codes[c] ?? 0) + 1;
    }
  }
  const opened = spec.subgraph ? watch.openedAfter(spec.subgraph, outcome.faultAt ?? start) : [];
  const closed = spec.subgraph && outcome.liftedAt !== undefined ? watch.closedAfter(spec.subgraph, outcome.liftedAt) : [];
  const allOpenAt = opened.length > 0 && opened.every((v) => v !== null) ? (outcome.faultAt ?? start) + Math.max(...(opened as number[])) : null;
  const afterOpen = allOpenAt === null ? [] : samplesBetween(allOpenAt, outcome.liftedAt ?? end).filter((s) => s.status === 200).map((s) => s.latencyMs);
  const row: PhaseRow = {
    phase: spec.name,
    sent: samples.length,
    non200: samples.filter((s) => s.status !== undefined && s.status !== 200).length,
    unanswered: samples.filter((s) => s.status === undefined).length,
    missingNames: samples.filter((s) => s.status === 200 && s.problem).length,
    p50Ms: percentile(samples.map((s) => s.latencyMs), 0.5),
    p99Ms: percentile(samples.map((s) => s.latencyMs), 0.99),
    p99AfterOpenMs: afterOpen.length ? percentile(afterOpen, 0.99) : null,
    codes,
    openedAfterMs: opened,
    closedAfterMs: closed,
    lossAllowed: outcome.loss ? outcome.loss.inFlightAtKill + samplesBetween(outcome.loss.from, outcome.loss.to).length : 0,
    notes: outcome.notes ?? '',
    examples: [...new Set(samples.filter((s) => s.status !== 200 || s.problem).map((s) => `${s.status ?? s.error}: ${(s.problem ?? '').slice(0, 160)}`))].slice(0, 3),
  };
  rows.push(row);
  return row;
}

const why = (r: PhaseRow) => JSON.stringify(r);

describe.sequential('chaos: default settings, under load, one fault at a time', () => {
  for (const spec of chaosSchedule(FULL)) {
    it(
      spec.name,
      async () => {
        const row = await runPhase(spec);
        // Only a SIGKILL may lose requests: those the dead process had, or was sent before HAProxy noticed.
        expect(row.non200 + row.unanswered, why(row)).toBeLessThanOrEqual(row.lossAllowed);
        expect(row.missingNames, why(row)).toBe(0);
        expect(row.sent, why(row)).toBeGreaterThan(0);
        if (spec.breaker === 'opens') {
          for (const [i, v] of row.openedAfterMs.entries()) {
            expect(v, `gw${i + 1}: ${why(row)}`).not.toBeNull();
            expect(v!, `gw${i + 1}: ${why(row)}`).toBeLessThanOrEqual(OPEN_BOUND_MS);
          }
        }
        if (spec.breaker === 'stays-closed') expect(row.openedAfterMs, why(row)).toEqual([null, null, null]);
        if (spec.breaker === 'opens' || spec.breaker === 'may-open') {
          for (const [i, v] of row.closedAfterMs.entries()) {
            expect(v, `gw${i + 1} closed again: ${why(row)}`).not.toBeNull();
            expect(v!, `gw${i + 1} closed again: ${why(row)}`).toBeLessThanOrEqual(CLOSE_BOUND_MS);
          }
        }
      },
      spec.timeoutMs,
    );
  }

  it('mutations were applied at most once each, through every fault', async () => {
    const w: LoadReport = await writes.stop();
    const review = cluster.mockUrls.review;
    const stored = await fetch(`${review}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ latestReviews(first: ${w.sent + 500}) { body } }` }),
    });
    const bodies = ((await stored.json()) as { data: { latestReviews: { body: string }[] } }).data.latestReviews.map((x) => x.body).filter((b) => b.startsWith(`chaos ${runId} `));
    rows.push({
      phase: 'mutations, whole run',
      sent: w.sent,
      non200: w.non200,
      unanswered: w.failures,
      missingNames: 0,
      p50Ms: w.p50Ms,
      p99Ms: w.p99Ms,
      p99AfterOpenMs: null,
      codes: {},
      openedAfterMs: [],
      closedAfterMs: [],
      lossAllowed: 0,
      notes: `${answeredWrites.size} confirmed, ${bodies.length} stored, ${bodies.length - new Set(bodies).size} stored twice; run ${Math.round((performance.now() - began) / 1000)} s`,
    });
    expect(new Set(bodies).size, 'a review stored twice').toBe(bodies.length);
    for (const b of answeredWrites) expect(bodies).toContain(b);
    expect(bodies.length).toBeLessThanOrEqual(w.sent);
  }, 60_000);
});
