import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNginx, type RunningNginx } from '../../devkit/nginx.ts';
import { freePort } from '../../devkit/ports.ts';
import { startRedis, type RunningRedis } from '../../devkit/redis.ts';
import { until } from '../../devkit/wait.ts';
import { publish, sha16, signDetached } from '../../scripts/supergraph.ts';
import { startAllMocks, subgraphUrlOverrides, type RunningMocks } from '../../subgraphs-mock/index.ts';
import { brokenSupergraph, metric } from '../helpers/controlPlane.ts';
import { REDIS_KEYS } from '../../src/controlPlane/index.ts';
import { createRedisClient, whenReady } from '../../src/redis/index.ts';
import { gql, startPortico, type RunningPortico } from '../helpers/portico.ts';

// The control plane with real parts: nginx as the registry (ETags, If-None-Match → 304), a real
// Redis for the push and the shared canary decision, three gateway instances, the demo mocks.

const PAGE = '{ products(first: 3) { id name category price { amount } reviews(first: 1) { rating } } }';
const ADMIN = 'control-plane-admin-token-0123456789';
const CANARY_PERCENT = 20;

let redis: RunningRedis;
let mocks: RunningMocks;
let nginx: RunningNginx;
let dir: string;
let registry: string;
let overrides: string;
const v1 = readFileSync('schemas/supergraph.graphql', 'utf8');
const instances: RunningPortico[] = [];

function fleetEnv(i: number): Record<string, string> {
  return {
    PORTICO_SUBGRAPH_URLS: overrides,
    PORTICO_SUPERGRAPH_URLS: `${nginx.url}/fleet/supergraph.graphql`,
    PORTICO_SUPERGRAPH_POLL_MS: '1000',
    PORTICO_SUPERGRAPH_PUSH: 'true',
    PORTICO_REDIS_URL: redis.url,
    PORTICO_SUPERGRAPH_CACHE_DIR: join(dir, `cache-${i}`),
    PORTICO_SUPERGRAPH_CANARY_PERCENT: String(CANARY_PERCENT),
    PORTICO_SUPERGRAPH_CANARY_MIN_REQUESTS: '10',
    PORTICO_SUPERGRAPH_CANARY_WINDOW_MS: '1500',
    PORTICO_RATE_LIMITS: 'anonymous=1000000/1m',
    PORTICO_ADMIN_TOKEN: ADMIN,
  };
}

/** Sends `PAGE` round-robin over the instances, 6 at a time, until `done`; counts what failed. */
async function traffic(targets: RunningPortico[], done: () => boolean, timeoutMs = 30_000): Promise<{ total: number; failed: number }> {
  let total = 0;
  let failed = 0;
  const end = Date.now() + timeoutMs;
  await Promise.all(
    Array.from({ length: 6 }, async (_, w) => {
      let i = w;
      while (!done() && Date.now() < end) {
        const r = await gql(targets[i++ % targets.length]!.graphqlUrl, PAGE);
        total++;
        if (r.status !== 200 || r.body.errors) failed++;
      }
    }),
  );
  if (!done()) throw new Error(`condition not reached after ${total} requests`);
  return { total, failed };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-control-plane-'));
  registry = join(dir, 'registry');
  mkdirSync(join(registry, 'fleet'), { recursive: true });
  writeFileSync(join(registry, 'fleet', 'supergraph.graphql'), v1);
  [redis, mocks, nginx] = await Promise.all([
    startRedis(),
    startAllMocks({ ports: { product: 0, pricing: 0, inventory: 0, review: 0 }, faultsFromEnv: false }),
    startNginx(registry),
  ]);
  overrides = Object.entries(subgraphUrlOverrides(mocks.mocks)).map(([k, v]) => `${k}=${v}`).join(',');
  for (let i = 0; i < 3; i++) instances.push(await startPortico(fleetEnv(i)));
}, 60_000);

afterAll(async () => {
  await Promise.all(instances.map((p) => p.stop()));
  await mocks?.stop();
  await nginx?.close();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('control plane: three instances on an nginx registry and a Redis push', () => {
  it('start from the registry; later polls send If-None-Match and a 304 (ETag unchanged) costs nothing', async () => {
    for (const p of instances) {
      const s = p.portico.parts.supergraph.status();
      expect(s.serving).toMatchObject({ hash: sha16(v1), source: `${nginx.url}/fleet/supergraph.graphql` });
      expect(s.sources.http[0]!.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    }
    await until('a 304 answered to each instance', () => nginx.requests().filter((r) => r.status === 304).length >= 3, 10_000, 50);
    for (const p of instances) {
      expect(await metric(p.opsUrl, 'portico_supergraph_fetches_total', { source: 'http', outcome: 'changed' })).toBe(1);
      await until('this instance to have had a 304', async () => (await metric(p.opsUrl, 'portico_supergraph_fetches_total', { source: 'http', outcome: 'not_modified' })) >= 1, 10_000, 50);
      // Nothing was read, hashed, offered or reloaded for a 304.
      expect(await metric(p.opsUrl, 'portico_supergraph_reloads_total', { outcome: 'success' })).toBe(0);
      expect(p.portico.parts.supergraph.state().reloads).toEqual({ success: 0, failure: 0 });
    }
    expect(nginx.requests().filter((r) => r.status === 200)).toHaveLength(3);
  });

  let v2: string;
  it('a push through Redis reaches all three instances in ≤ 1 s, and a healthy canary is promoted on all', async () => {
    v2 = `${v1}\n# v2: published through Redis\n`;
    const file = join(dir, 'v2.graphql');
    writeFileSync(file, v2);
    const t0 = Date.now();
    const published = publish({ file, redis: redis.url });
    const serving = await Promise.all(
      instances.map(async (p) => {
        await until('the pushed version running as a canary', () => p.portico.parts.supergraph.status().canary?.hash === sha16(v2), 10_000, 1);
        return Date.now() - t0;
      }),
    );
    expect((await published).ok).toBe(true);
    // Delivery: from publish to each instance holding the pushed version (Redis PUBLISH + GET).
    const delivered = instances.map((p) => {
      const got = p.portico.parts.supergraph.status().sources.push!.lastReceived!;
      expect(got.hash).toBe(sha16(v2));
      return Date.parse(got.at) - t0;
    });
    console.log(`[control plane] push to 3 instances: delivered in ${delivered.join(' / ')} ms; canary serving after ${serving.join(' / ')} ms (each builds its canary gateway; here on one shared event loop)`);
    expect(Math.max(...delivered)).toBeLessThanOrEqual(1_000);

    const { total, failed } = await traffic(instances, () => instances.every((p) => p.portico.parts.supergraph.state().hash === sha16(v2)));
    expect(failed).toBe(0);
    const decisions = instances.map((p) => p.portico.parts.supergraph.status().lastDecision);
    // One instance decided; the others followed its decision through Redis.
    expect(new Set(decisions.map((d) => `${d?.hash} ${d?.decision} ${d?.by}`)).size).toBe(1);
    expect(decisions[0]).toMatchObject({ hash: sha16(v2), decision: 'promoted' });
    console.log(`[control plane] good canary promoted on 3 instances after ${total} requests: ${decisions[0]!.reason}`);
    for (const p of instances) {
      expect(p.portico.parts.supergraph.status().canary).toBeNull();
      expect(await metric(p.opsUrl, 'portico_supergraph_canary_total', { event: 'promoted' })).toBe(1);
    }
    // The promoted version is the new disk cache.
    await until('the cache written', () => readFileSync(join(dir, 'cache-0', 'supergraph.graphql'), 'utf8') === v2, 5_000, 20);
  });

  it('a composable-but-broken supergraph from the registry: the canary sees errors and rolls back everywhere, at most its share of requests affected', async () => {
    const bad = brokenSupergraph();
    writeFileSync(join(registry, 'fleet', 'supergraph.graphql'), bad);
    const badHash = sha16(bad);
    await until('a canary of the broken supergraph', () => instances.some((p) => p.portico.parts.supergraph.status().canary?.hash === badHash), 10_000, 5);
    const rolledBack = () => instances.every((p) => p.portico.parts.supergraph.status().lastDecision?.hash === badHash);
    const { total, failed } = await traffic(instances, rolledBack);
    const share = failed / total;
    const d = instances[0]!.portico.parts.supergraph.status().lastDecision!;
    console.log(`[control plane] broken canary at ${CANARY_PERCENT} %: ${failed} of ${total} requests affected (${(share * 100).toFixed(1)} %) before the rollback on 3 instances: ${d.reason}`);
    expect(d).toMatchObject({ decision: 'rolled-back' });
    expect(d.reason).toMatch(/canary failed/);
    expect(failed).toBeGreaterThan(0);
    // Every affected request was a canary request: the stable lane failed none.
    for (const p of instances) expect(await metric(p.opsUrl, 'portico_supergraph_canary_requests_total', { lane: 'stable', failed: 'true' })).toBe(0);
    // Only canary requests failed: the share is the canary's (binomial noise over ~100 requests allowed).
    expect(share).toBeLessThan((CANARY_PERCENT + 12) / 100);
    for (const p of instances) {
      const s = p.portico.parts.supergraph.status();
      expect(s.serving!.hash).toBe(sha16(v2));
      expect(s.canary).toBeNull();
      expect(p.portico.parts.supergraph.state().lastRejection?.reason).toMatch(/rolled back/);
    }
    // After the rollback nobody is affected: the registry still serves the bad file, it is not retried.
    const after = await traffic(instances, (() => {
      let n = 0;
      return () => ++n > 30;
    })());
    expect(after.failed).toBe(0);
    // /health/subgraphs shows the decision.
    const health = await (await fetch(`${instances[1]!.opsUrl}/health/subgraphs`)).json();
    expect(health.gateway.controlPlane).toMatchObject({ serving: { hash: sha16(v2), source: 'redis' }, canary: null, lastDecision: { hash: badHash, decision: 'rolled-back' } });
  });

  it('admin: promote and abort need the token; with nothing running abort rolls back to the previous version on every instance', async () => {
    const noToken = await fetch(`${instances[0]!.opsUrl}/admin/supergraph/promote`, { method: 'POST' });
    expect(noToken.status).toBe(401);
    const auth = { authorization: `Bearer ${ADMIN}` };
    const promote = await fetch(`${instances[0]!.opsUrl}/admin/supergraph/promote`, { method: 'POST', headers: auth });
    expect(promote.status).toBe(409);
    expect((await promote.json()).error.code).toBe('NO_CANARY');
    const abort = await fetch(`${instances[0]!.opsUrl}/admin/supergraph/abort`, { method: 'POST', headers: auth });
    expect(abort.status).toBe(200);
    await until('every instance back on v1', () => instances.every((p) => p.portico.parts.supergraph.state().hash === sha16(v1)), 5_000, 5);
  });
  it('an instance that missed a push catches up when its Redis connection comes back', async () => {
    const v4 = `${v1}\n# v4: published while every subscriber was cut off\n`;
    const client = createRedisClient({ url: redis.url }, { logger: instances[0]!.logger });
    try {
      expect(await whenReady(client, 5_000)).toBe(true);
      // Stored but never announced (as if the message was sent while the instances were away)…
      await client.set(REDIS_KEYS.latest, JSON.stringify({ hash: sha16(v4), sdl: v4, publishedAt: new Date().toISOString() }));
      for (const p of instances) expect(p.portico.parts.supergraph.status().canary).toBeNull();
      // …then every subscriber connection drops and reconnects.
      expect(Number(await client.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBeGreaterThanOrEqual(3);
      await until('every instance caught up', () => instances.every((p) => p.portico.parts.supergraph.status().canary?.hash === sha16(v4)), 10_000, 5);
      await fetch(`${instances[0]!.opsUrl}/admin/supergraph/abort`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
      await until('the catch-up canary aborted everywhere', () => instances.every((p) => p.portico.parts.supergraph.status().canary === null), 5_000, 5);
    } finally {
      await client.quit();
    }
  });

  it('a pushed file that is not a supergraph is rejected by every instance; the served one stays', async () => {
    const before = instances.map((p) => p.portico.parts.supergraph.state());
    const client = createRedisClient({ url: redis.url }, { logger: instances[0]!.logger });
    try {
      expect(await whenReady(client, 5_000)).toBe(true);
      const junk = 'type Query { hello: String }\n';
      await client.set(REDIS_KEYS.latest, JSON.stringify({ hash: sha16(junk), sdl: junk, publishedAt: new Date().toISOString() }));
      await client.publish(REDIS_KEYS.published, sha16(junk));
      await until('every instance rejected it', () => instances.every((p, i) => p.portico.parts.supergraph.state().reloads.failure > before[i]!.reloads.failure), 10_000, 5);
    } finally {
      await client.quit();
    }
    for (const [i, p] of instances.entries()) {
      expect(p.portico.parts.supergraph.state().hash).toBe(before[i]!.hash);
      expect(p.portico.parts.supergraph.status().canary).toBeNull();
      expect((await gql(p.graphqlUrl, PAGE)).body.errors).toBeUndefined();
    }
  });
});

describe('control plane: refusals and cold starts', () => {
  it('an oversized or wrongly signed file is refused; the old one keeps serving', async () => {
    const keys = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519');
    const pub = join(dir, 'pub.pem');
    writeFileSync(pub, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const signed = join(registry, 'signed');
    mkdirSync(signed, { recursive: true });
    const privPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    writeFileSync(join(signed, 'supergraph.graphql.sig'), await signDetached(v1, privPem));
    writeFileSync(join(signed, 'supergraph.graphql'), v1);
    const p = await startPortico({
      PORTICO_SUBGRAPH_URLS: overrides,
      PORTICO_SUPERGRAPH_URLS: `${nginx.url}/signed/supergraph.graphql`,
      PORTICO_SUPERGRAPH_PUBLIC_KEY_FILE: pub,
      PORTICO_SUPERGRAPH_MAX_BYTES: String(v1.length + 1_000),
      PORTICO_SUPERGRAPH_POLL_MS: '1000',
      // No Redis: this instance judges its canary and decides alone.
      PORTICO_SUPERGRAPH_CANARY_PERCENT: '50',
      PORTICO_SUPERGRAPH_CANARY_MIN_REQUESTS: '5',
      PORTICO_SUPERGRAPH_CANARY_WINDOW_MS: '0',
    });
    try {
      expect(p.portico.parts.supergraph.state().hash).toBe(sha16(v1));
      const refused = () => metric(p.opsUrl, 'portico_supergraph_fetches_total', { source: 'http', outcome: 'refused' });
      // Too large (validly signed even): refused before it is read whole.
      const big = `${v1}\n#${'x'.repeat(2_000)}\n`;
      writeFileSync(join(signed, 'supergraph.graphql.sig'), await signDetached(big, privPem));
      writeFileSync(join(signed, 'supergraph.graphql'), big);
      await until('the oversized file refused', async () => (await refused()) >= 1, 10_000, 50);
      expect(p.logs.find((l) => l.event === 'supergraph_fetch' && String(l.reason).includes('byte limit'))).not.toHaveLength(0);
      // Signed with another key.
      const changed = `${v1}\n# changed\n`;
      writeFileSync(join(signed, 'supergraph.graphql.sig'), await signDetached(changed, other.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string));
      writeFileSync(join(signed, 'supergraph.graphql'), changed);
      await until('the badly signed file refused', () => p.logs.find((l) => l.event === 'supergraph_fetch' && String(l.reason).includes('signature does not verify')).length > 0, 10_000, 50);
      expect(p.portico.parts.supergraph.state().hash).toBe(sha16(v1));
      const r = await gql(p.graphqlUrl, PAGE);
      expect(r.body.errors).toBeUndefined();
      // Signed right: taken, as a canary, and promoted by this instance alone (no Redis).
      writeFileSync(join(signed, 'supergraph.graphql.sig'), await signDetached(changed, privPem));
      await until('the well-signed file accepted', () => p.portico.parts.supergraph.status().canary?.hash === sha16(changed), 10_000, 50);
      const { failed } = await traffic([p], () => p.portico.parts.supergraph.state().hash === sha16(changed));
      expect(failed).toBe(0);
      expect(p.portico.parts.supergraph.status().lastDecision).toMatchObject({ hash: sha16(changed), decision: 'promoted', by: expect.not.stringMatching(/^admin/) });
    } finally {
      await p.stop();
    }
  });

  it('the registry down, its mirror up: the mirror (the next URL) serves', async () => {
    const closed = await freePort();
    const p = await startPortico({
      PORTICO_SUBGRAPH_URLS: overrides,
      PORTICO_SUPERGRAPH_URLS: `http://127.0.0.1:${closed}/supergraph.graphql,${nginx.url}/fleet/supergraph.graphql`,
    });
    try {
      const s = p.portico.parts.supergraph.status();
      expect(s.serving!.source).toBe(`${nginx.url}/fleet/supergraph.graphql`);
      expect(s.sources.http.map((u) => u.ok)).toEqual([false, true]);
      expect(s.sources.http[0]!.lastError).toMatch(/fetch failed|ECONNREFUSED/);
    } finally {
      await p.stop();
    }
  });

  it('registry down at cold start: starts from the disk cache, is ready, and says so; with no cache it refuses to start', async () => {
    await nginx.stop();
    const p = await startPortico({
      PORTICO_SUBGRAPH_URLS: overrides,
      PORTICO_SUPERGRAPH_URLS: `${nginx.url}/fleet/supergraph.graphql`,
      PORTICO_SUPERGRAPH_CACHE_DIR: join(dir, 'cache-0'),
    });
    try {
      const s = p.portico.parts.supergraph.status();
      expect(s.serving).toMatchObject({ hash: sha16(v1), source: expect.stringMatching(/^cache:/) });
      expect((await fetch(`${p.url}/health/ready`)).status).toBe(200);
      expect((await gql(p.graphqlUrl, PAGE)).body.data.products).toHaveLength(3);
      expect(await metric(p.opsUrl, 'portico_supergraph_from_cache')).toBe(1);
      expect(await metric(p.opsUrl, 'portico_supergraph_age_seconds')).toBeGreaterThanOrEqual(0);
      const health = await (await fetch(`${p.opsUrl}/health/subgraphs`)).json();
      expect(health.gateway.controlPlane.serving.source).toMatch(/^cache:/);
      expect(health.gateway.controlPlane.sources.http[0]).toMatchObject({ ok: false });
    } finally {
      await p.stop();
    }
    await expect(
      startPortico({ PORTICO_SUBGRAPH_URLS: overrides, PORTICO_SUPERGRAPH_URLS: `${nginx.url}/fleet/supergraph.graphql`, PORTICO_SUPERGRAPH_CACHE_DIR: join(dir, 'empty-cache') }),
    ).rejects.toThrow(/no supergraph to start with: URLs .*; no cached supergraph in .*empty-cache \(PORTICO_SUPERGRAPH_CACHE_DIR\)/);
    await nginx.restart();
  });
});
