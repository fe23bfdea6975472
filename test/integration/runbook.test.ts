import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_AUDIENCE, DEV_ISSUER, signDevToken } from '../../subgraphs-mock/idp.ts';
import { startPortico, startStack, type RunningPortico, type Stack } from '../helpers/portico.ts';
import { subgraphUrlOverrides } from '../../subgraphs-mock/index.ts';
import { metricNamesIn } from '../helpers/promql.ts';
import { queryableNames, scrape } from '../helpers/promText.ts';
import { startRedis, type RunningRedis } from '../../devkit/redis.ts';
import { until } from '../../devkit/wait.ts';

// docs/runbook.md is only useful if its commands work. Every `sh runbook:<id>` block is run here
// with bash, exactly as written, against a real gateway (port 0), mock subgraphs, a real Redis
// and an identity provider that is down; $GW, $OPS, $ADMIN_TOKEN, $SUPERGRAPH, $NEW_SUPERGRAPH
// and $REDIS_URL are this test's values. PromQL blocks may read only metrics the gateway serves.

const RUNBOOK = 'docs/runbook.md';
const ADMIN_TOKEN = 'runbook-admin-token-0123456789';
/** Variables the runbook's commands may use; the test provides each. */
const VARIABLES = ['GW', 'OPS', 'ADMIN_TOKEN', 'SUPERGRAPH', 'NEW_SUPERGRAPH', 'REDIS_URL', 'PRICING_MOCK', 'CP_OPS'];
/** A bash block has 30 s: each is a few curl calls against local servers. */
const BLOCK_TIMEOUT_MS = 30_000;
const PAGE = '{ products(first: 3) { name price { amount } inventory { inStock } } }';

interface Block {
  lang: string;
  marker: string | undefined;
  code: string;
}

function blocksOf(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w+)(?:[ \t]+(\S+))?\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, marker: m[2], code: m[3]! }));
}

const blocks = blocksOf(readFileSync(RUNBOOK, 'utf8'));
const exercised = new Map(blocks.filter((b) => b.marker?.startsWith('runbook:')).map((b) => [b.marker!.slice('runbook:'.length), b.code]));

let s: Stack;
/** A second gateway with the control plane on: its registry is down, it started from its disk cache. */
let cp: RunningPortico;
let redis: RunningRedis;
let dir: string;
let env: Record<string, string>;
const ran = new Set<string>();

async function freeClosedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** Runs one runbook block with bash (`set -euo pipefail`: any failing step fails the block). */
function run(id: string, extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const code = exercised.get(id);
  if (code === undefined) throw new Error(`docs/runbook.md has no block runbook:${id}`);
  ran.add(id);
  return new Promise((resolve) => {
    // --norc: bash reads ~/.bashrc when stdin is a socket (as Node's pipes are), thinking rshd ran it.
    execFile('bash', ['--norc', '--noprofile', '-c', `set -euo pipefail\n${code}`], { env: { ...env, ...extraEnv }, timeout: BLOCK_TIMEOUT_MS }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function ok(id: string, extraEnv: Record<string, string> = {}): Promise<string> {
  const r = await run(id, extraEnv);
  expect(r.code, `runbook:${id} failed\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const breaker = (key: string) => s.gw.portico.parts.breakers.snapshot().find((b) => b.key === key)?.state;
const sha16 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'portico-runbook-'));
  const supergraph = join(dir, 'supergraph.graphql');
  copyFileSync('schemas/supergraph.graphql', supergraph);
  s = await startStack({
    PORTICO_ADMIN_TOKEN: ADMIN_TOKEN,
    // Section 16 runs the probes on demand; a long interval keeps them out of the other sections.
    PORTICO_PROBES_ENABLED: 'true',
    PORTICO_PROBE_INTERVAL_MS: '3600000',
    PORTICO_SUPERGRAPH_PATH: supergraph,
    PORTICO_REDIS_URL: redis.url,
    PORTICO_RATE_LIMITS: 'anonymous=1000000/1m',
    PORTICO_BREAKER_VOLUME_THRESHOLD: '5',
    PORTICO_BREAKER_WINDOW_MS: '1000',
    PORTICO_BREAKER_RESET_MS: '3000',
    // The identity provider is down from the start: nothing listens there.
    PORTICO_JWKS_URL: `http://127.0.0.1:${await freeClosedPort()}/.well-known/jwks.json`,
    PORTICO_JWT_ISSUER: DEV_ISSUER,
    PORTICO_JWT_AUDIENCE: DEV_AUDIENCE,
  });
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    GW: s.gw.url,
    OPS: s.gw.opsUrl,
    ADMIN_TOKEN,
    SUPERGRAPH: supergraph,
    NEW_SUPERGRAPH: join(dir, 'new.graphql'),
    REDIS_URL: redis.url,
    PRICING_MOCK: s.mocks.mocks.pricing.url.replace(/\/graphql$/, ''),
  };
  const cache = join(dir, 'cp-cache');
  mkdirSync(cache);
  copyFileSync('schemas/supergraph.graphql', join(cache, 'supergraph.graphql'));
  cp = await startPortico({
    PORTICO_SUBGRAPH_URLS: Object.entries(subgraphUrlOverrides(s.mocks.mocks)).map(([k, v]) => `${k}=${v}`).join(','),
    PORTICO_ADMIN_TOKEN: ADMIN_TOKEN,
    PORTICO_REDIS_URL: redis.url,
    PORTICO_RATE_LIMIT_ENABLED: 'false',
    PORTICO_SUPERGRAPH_URLS: `http://127.0.0.1:${await freeClosedPort()}/supergraph.graphql`,
    PORTICO_SUPERGRAPH_PUSH: 'true',
    PORTICO_SUPERGRAPH_CACHE_DIR: cache,
    // The canary keeps running until the runbook acts on it.
    PORTICO_SUPERGRAPH_CANARY_MIN_REQUESTS: '1000000',
  });
  env.CP_OPS = cp.opsUrl;
  await until('the limiter to use Redis', () => s.gw.portico.parts.limiter?.mode() === 'redis');
});
afterAll(async () => {
  await cp?.stop();
  await s?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the runbook itself', () => {
  it('marks every shell block as exercised or not, and runs no curl unexercised', () => {
    const sh = blocks.filter((b) => b.lang === 'sh');
    expect(sh.length).toBeGreaterThan(15);
    for (const b of sh) expect(b.marker, b.code).toMatch(/^(runbook:[a-z0-9-]+|not-exercised)$/);
    const ids = sh.filter((b) => b.marker !== 'not-exercised').map((b) => b.marker);
    expect(new Set(ids).size).toBe(ids.length);
    for (const b of sh.filter((x) => x.marker === 'not-exercised')) {
      expect(b.code, 'a curl command must be exercised').not.toMatch(/\bcurl\b/);
      for (const line of b.code.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'))) {
        expect(line.trim(), 'unexercised blocks are cluster commands or variables only').toMatch(/^(kubectl|docker|export) /);
      }
    }
  });

  it('uses only the documented variables', () => {
    for (const [id, code] of exercised) {
      for (const m of code.matchAll(/\$\{?([A-Z_][A-Z0-9_]*)/g)) expect(VARIABLES, `runbook:${id} uses $${m[1]}`).toContain(m[1]);
    }
  });

  it('PromQL reads only metrics a running gateway serves', async () => {
    const served = queryableNames(await scrape(s.gw.opsUrl));
    const promql = blocks.filter((b) => b.lang === 'promql');
    expect(promql.length).toBeGreaterThanOrEqual(10);
    for (const b of promql) {
      for (const name of metricNamesIn(b.code)) expect(served.has(name) || name === 'up', `${name} in ${b.code}`).toBe(true);
    }
  });
});

describe('the runbook, run', () => {
  it('1. is it up', async () => {
    const out = await ok('is-it-up');
    expect(out).toContain('{"status":"live"}');
    expect(out).toMatch(/"status":"ready".* HTTP 200/);
    expect(out).toMatch(/\{"lifecycle":"ready","status":"ready","reasons":\[\],"supergraph":"[0-9a-f]{16}","limiter":"redis"\}/);
  });

  it('2. which subgraph hurts', async () => {
    s.mocks.mocks.pricing.faults.set({ mode: 'refuse' });
    for (let i = 0; i < 3; i++) await s.gql(PAGE);
    const out = await ok('which-subgraph');
    expect(out).toMatch(/^pricing\tclosed\t3\t100% errors\tp99 [\d.]+ ms\tconnection (reset|refused)$/m);
    expect(out).toMatch(/^product\tclosed\t3\t0% errors\tp99 [\d.]+ ms\t-$/m);
    expect(out).toMatch(/^review\tclosed\t0\t0% errors\tp99 - ms\t-$/m);
  });

  it('3. a breaker is open', async () => {
    let i = 0;
    await until('pricing:Product to open', async () => {
      await s.gql(PAGE.replace('first: 3', `first: ${1 + (i++ % 9)}`));
      return breaker('pricing:Product') === 'open';
    });
    const out = await ok('breakers');
    expect(out).toMatch(/^pricing:Product (open|half-open) since \S+ window: \d+ failures \/ \d+ calls$/m);
    expect(out).toMatch(/^portico_breaker_state\{subgraph="pricing",key="pricing:Product"\} [12]$/m);
    expect(out).toMatch(/^portico_breaker_state\{subgraph="product",key="product:Query.products"\} 0$/m);
  });

  it('3. hold a flapping breaker closed, then release it', async () => {
    s.mocks.mocks.pricing.faults.reset();
    expect(await ok('hold-closed')).toBe('{"mode":"closed","breakers":[{"key":"pricing:Product","state":"forced-closed"}]}\n');
    const r = await s.gql(PAGE);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.products[0].price).not.toBeNull();
    const out = await ok('release');
    expect(out).toMatch(/^\{"mode":"auto","breakers":\[\{"key":"pricing:Product","state":"(open|half-open|closed)"\}\]\}$/m);
  });

  it('4. bypass pricing: its fields are null without calling it; undo', async () => {
    expect(JSON.parse(await ok('bypass'))).toEqual({ target: 'pricing', mode: 'open', keys: ['pricing:Product'], breakers: [{ key: 'pricing:Product', state: 'forced-open' }] });
    s.mocks.mocks.pricing.resetStats();
    expect(JSON.parse(await ok('bypass-check'))).toEqual({ names: [expect.any(String), expect.any(String)], prices: [null, null], code: 'SUBGRAPH_CIRCUIT_OPEN' });
    expect(s.mocks.mocks.pricing.stats().requests).toBe(0);
    const undo = JSON.parse(await ok('unbypass'));
    expect(undo).toMatchObject({ target: 'pricing', mode: 'auto' });
    expect(JSON.stringify(undo.breakers)).not.toContain('forced');
  });

  it('5. the gateway itself: status classes and error codes', async () => {
    const out = await ok('http-status');
    expect(out).toMatch(/^portico_http_requests_total\{status_class="2xx",operation_type="query"\} \d+$/m);
    expect(out).toMatch(/^portico_graphql_errors_total\{code="SUBGRAPH_CIRCUIT_OPEN"\} [1-9]\d*$/m);
  });

  it('8. emergency rate limits: one instance, then the fleet through Redis, then back', async () => {
    const limit = () => s.gw.portico.parts.limiter!.policies().anonymous!.limit;
    expect(await ok('rate-limits')).toBe('{"limit":30,"windowMs":60000}\n');
    expect(limit()).toBe(30);
    expect(await ok('rate-limits-undo')).toMatch(/^\{"limit":1000000,"windowMs":60000\}\n/);
    expect(limit()).toBe(1_000_000);
    expect(await ok('rate-limits-fleet')).toBe('OK\n');
    await until('the instance to pick up the published policy', () => limit() === 30);
    await ok('rate-limits-undo');
    await until('the configured policy back', () => limit() === 1_000_000);
  });

  it('9. publish a supergraph, roll it back; a bad one is refused and rolled back too', async () => {
    const original = sha16(env.SUPERGRAPH!);
    const state = await ok('supergraph-state');
    expect(state).toMatch(new RegExp(`^\\{"hash":"${original}","loadedAt":"[^"]+","lastRejection":null,`, 'm'));
    expect(state).toMatch(new RegExp(`^${original}$`, 'm'));

    // A valid new version (a comment changes the hash) is served after publishing.
    writeFileSync(env.NEW_SUPERGRAPH!, `${readFileSync(env.SUPERGRAPH!, 'utf8')}\n# published by the runbook test\n`);
    const published = await ok('publish');
    expect(published).toMatch(/"outcome":"(success|unchanged)"/);
    expect(s.gw.portico.parts.supergraph.state().hash).toBe(sha16(env.NEW_SUPERGRAPH!));
    // Rolled back to the file it replaced.
    expect(await ok('rollback')).toMatch(new RegExp(`^serving ${original}$`, 'm'));
    expect(s.gw.portico.parts.supergraph.state().hash).toBe(original);

    // An invalid one: the reload answers 422 and the block fails; the old one keeps serving.
    writeFileSync(env.NEW_SUPERGRAPH!, 'this is not a supergraph\n');
    const bad = await run('publish');
    expect(bad.code, bad.stderr).toBe(22);
    expect(bad.stdout).toMatch(/"code":"SUPERGRAPH_REJECTED"/);
    expect(s.gw.portico.parts.supergraph.state().hash).toBe(original);
    const afterBad = await ok('supergraph-state');
    expect(afterBad).toMatch(/"lastRejection":\{"at":"[^"]+","reason":"Syntax Error/);
    expect(afterBad).not.toMatch(new RegExp(`^${original}$`, 'm')); // the file on disk is not the one served
    expect(await ok('rollback')).toMatch(new RegExp(`^serving ${original}$`, 'm'));
    expect((await s.gql(PAGE)).body.data.products).toHaveLength(3);
  });

  it('10. Redis unreachable: the limiter falls back, the runbook shows it, and it recovers', async () => {
    await redis.kill('SIGKILL');
    await until('the limiter to fall back', async () => {
      await s.gql('{ __typename }');
      return s.gw.portico.parts.limiter!.mode() === 'local-fallback';
    });
    const out = await ok('redis');
    expect(out).toMatch(/^\{"mode":"local-fallback","redisErrors":[1-9]\d*,"fallbackDecisions":\d+\}$/m);
    expect(out).toMatch(/^portico_ratelimit_mode\{mode="local-fallback"\} 1$/m);
    expect(out).toMatch(/^Redis does not answer$/m);
    // Still serving; readiness says why it is degraded.
    expect((await s.gql(PAGE)).status).toBe(200);
    expect(await (await fetch(`${s.gw.url}/health/ready`)).json()).toMatchObject({ status: 'degraded', reasons: expect.arrayContaining([expect.stringMatching(/rate limiter in local fallback/)]) });
    await redis.restart();
    await until('shared limits again', () => s.gw.portico.parts.limiter!.mode() === 'redis', 15_000);
    expect(await ok('redis')).toMatch(/^PONG$/m);
  });

  it('14. / 15. Redis failover and cluster node lost: the gateway-side view of the limiter', async () => {
    await until('shared limits', () => s.gw.portico.parts.limiter!.mode() === 'redis', 15_000);
    const failover = await ok('redis-failover');
    expect(failover).toMatch(/^\{"mode":"redis","liveInstances":[1-9]\d*,"redisErrors":\d+\}$/m);
    expect(failover).toMatch(/^rate limits: shared through Redis at 127\.0\.0\.1:\d+ /m);
    expect(failover).toMatch(/^portico_ratelimit_mode\{mode="redis"\} 1$/m);
    expect(failover).toMatch(/^portico_ratelimit_live_instances [1-9]\d*$/m);
    const node = await ok('redis-cluster-node');
    expect(node).toMatch(/^\{"mode":"redis","liveInstances":[1-9]\d*,"redisErrors":\d+,"fallbackDecisions":\d+\}$/m);
    expect(node).toMatch(/^portico_ratelimit_mode\{mode="redis"\} 1$/m);
  });

  it('11. identity provider down: JWKS failures are counted, anonymous traffic is served', async () => {
    const token = await signDevToken({ sub: 'runbook-user' });
    expect((await s.gql(PAGE, undefined, { authorization: `Bearer ${token}` })).status).toBe(401);
    expect((await s.gql(PAGE)).status).toBe(200);
    const out = await ok('idp');
    expect(out).toMatch(/^portico_jwks_fetches_total\{outcome="failure"\} [1-9]\d*$/m);
    expect(out).toMatch(/^portico_jwks_fetches_total\{outcome="success"\} 0$/m);
  });

  it('12. instance state', async () => {
    const out = await ok('instance-state');
    expect(out).toMatch(/^ready: HTTP 200$/m);
    expect(out).toMatch(/^lifecycle: ready, instance: \S+$/m);
    expect(out).toMatch(/^portico_ready 1$/m);
  });

  it('13. a subgraph hangs: inject, watch the breaker open on slow calls, force it, recover', async () => {
    s.gw.portico.parts.breakers.force('pricing', 'auto');
    // Earlier sections left it open: a good probe (after the 3 s reset) closes it.
    await until('pricing:Product closed', async () => {
      await s.gql(PAGE);
      return breaker('pricing:Product') === 'closed';
    }, 10_000, 100);
    await ok('hang-inject');
    expect(s.mocks.mocks.pricing.faults.get().mode).toBe('hang');
    const pages = await ok('hang-pages');
    // Every page answered 200: at most the timeout, and faster once the breaker opened.
    expect(pages.trim().split('\n').map((l) => l.split(' ')[0])).toEqual(Array(12).fill('200'));
    expect(breaker('pricing:Product')).toBe('open');
    const watched = await ok('hang-watch');
    expect(watched).toMatch(/^pricing:Product open reason=slow_calls slow=\d+\/\d+ over 1000 ms$/m);
    expect(watched).toMatch(/^portico_subgraph_requests_total\{subgraph="pricing",outcome="circuit_open"\} \d+$/m);
    expect(await ok('hang-force')).toBe('{"mode":"open","breakers":[{"key":"pricing:Product","state":"forced-open"}]}\n');
    expect(await ok('hang-recover')).toMatch(/^\{"mode":"auto","breakers":\[\{"key":"pricing:Product","state":"(open|half-open|closed)"\}\]\}$/m);
    expect(s.mocks.mocks.pricing.faults.get().mode).toBe('ok');
    // Closed again by a good probe, within the reset timeout (3 s here) plus one call.
    await until('pricing:Product to close after recovery', async () => {
      await s.gql(PAGE);
      return breaker('pricing:Product') === 'closed';
    }, 8_000, 100);
  });

  it('16. / 17. registry down: served from the cache; a push through Redis runs as a canary; abort rolls it back', async () => {
    const original = sha16('schemas/supergraph.graphql');
    const down = await ok('registry-down');
    expect(down).toMatch(/^\{"source":"cache:unknown","ageS":\d+,"urls":\[\{"url":"http:\/\/127\.0\.0\.1:\d+\/supergraph\.graphql","ok":false,"lastError":"[^"]+"\}\]\}$/m);
    expect(down).toMatch(/^portico_supergraph_from_cache 1$/m);
    expect(down).toMatch(/^portico_supergraph_fetches_total\{source="http",outcome="failure"\} [1-9]\d*$/m);

    writeFileSync(env.NEW_SUPERGRAPH!, `${readFileSync('schemas/supergraph.graphql', 'utf8')}\n# pushed by the runbook test\n`);
    const next = sha16(env.NEW_SUPERGRAPH!);
    expect(await ok('registry-push')).toMatch(new RegExp(`^published ${next} to redis `, 'm'));
    await until('the pushed version running as a canary', () => cp.portico.parts.supergraph.status().canary?.hash === next, 5_000);

    const state = await ok('cp-state');
    expect(state).toMatch(new RegExp(`^\\{"serving":"${original}","source":"cache:unknown","canary":"${next}","canaryFailed":\\d+,"last":null,"why":null\\}$`, 'm'));
    expect(state).toMatch(new RegExp(`^latest published: ${next}$`, 'm'));
    expect(state).toMatch(new RegExp(`^\\S+\\t${original}\\t\\S+\\tcache:unknown\\t${next} at 5 %$`, 'm'));

    expect(await ok('canary-abort')).toMatch(new RegExp(`^\\{"ok":true,"message":"${next} rolled-back \\(admin@\\S+\\): aborted by an admin","serving":"${original}"\\}$`, 'm'));
    expect(cp.portico.parts.supergraph.status()).toMatchObject({ canary: null, lastDecision: { hash: next, decision: 'rolled-back' } });
    expect(await ok('cp-state')).toMatch(/"last":"rolled-back","why":"aborted by an admin"/);
    // Nothing left to abort: no canary, and nothing promoted before to roll back to.
    const again = await run('canary-abort');
    expect(again.code).toBe(22);
    expect(again.stdout).toMatch(/"ok":false/);
  });

  it('18. one tier is starving: the overload and quota readings per tier', async () => {
    await s.gql(PAGE);
    const out = await ok('tier-starving');
    expect(out).toMatch(/^portico_overload_pressure \S+$/m);
    expect(out).toMatch(/^portico_overload_shed_tiers 0$/m);
    expect(out).toMatch(/^portico_overload_standing_delay_seconds \S+$/m);
    // No overload seen: no limit learned.
    expect(out).toMatch(/^portico_overload_adaptive_limit 0$/m);
    expect(out).toMatch(/^portico_overload_shed_total\{tier="anonymous"\} 0$/m);
    expect(out).toMatch(/^portico_ratelimit_queued_total\{tier="premium"\} 0$/m);
  });

  it('19. cache: see what it holds and answers, invalidate by key and by subgraph on every instance', async () => {
    const status = await ok('cache-status');
    expect(status).toMatch(/^\{"enabled":true,"levels":"memory\+redis","redis":"(connected|unavailable)","l1Entries":\d+\}$/m);
    expect(status).toMatch(/^pricing hit ratio \S+$/m);
    const out = await ok('cache-invalidate');
    expect(out).toMatch(/^\{"invalidated":\{"by":"key","type":"Product","key":\{"id":"1"\}\},"allInstances":(true|false)\}$/m);
    expect(out).toMatch(/^\{"invalidated":\{"by":"subgraph","subgraph":"pricing"\},"allInstances":(true|false)\}$/m);
  });

  it('20. a synthetic probe fails: the runbook shows which subgraph it missed', async () => {
    s.mocks.mocks.review.faults.set({ mode: 'refuse' });
    try {
      const [run] = await s.gw.portico.parts.probes!.runOnce();
      expect(run?.result).toBe('degraded');
      const out = await ok('probe-failing');
      expect(out).toMatch(/^product-page\tdegraded\tHTTP 200\t[\d.]+ ms\treview\tSUBGRAPH_UNAVAILABLE$/m);
      expect(out).toMatch(/^portico_probe_success\{probe="product-page"\} 0$/m);
    } finally {
      s.mocks.mocks.review.faults.reset();
    }
  });

  it('every exercised block was run', () => {
    expect([...exercised.keys()].filter((id) => !ran.has(id))).toEqual([]);
  });
});
