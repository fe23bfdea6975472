/**
 * The push and a shared canary decision across three gateway *processes* (src/main.ts, as
 * deployed): a publish reaches each within a second, an admin promote on one instance is applied
 * by all three, and `npm run supergraph -- status` lists what each serves.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../../devkit/redis.ts';
import { until } from '../../devkit/wait.ts';
import { publish, sha16 } from '../../scripts/supergraph.ts';
import { startAllMocks, subgraphUrlOverrides, type RunningMocks } from '../../subgraphs-mock/index.ts';
import { spawnGateway, type GatewayProcess } from '../helpers/gatewayProcess.ts';

const ADMIN = 'control-plane-processes-admin-0123456789';
let redis: RunningRedis;
let mocks: RunningMocks;
let dir: string;
const gateways: { gw: GatewayProcess; ops: string }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-cp-processes-'));
  [redis, mocks] = await Promise.all([startRedis(), startAllMocks({ ports: { product: 0, pricing: 0, inventory: 0, review: 0 }, faultsFromEnv: false })]);
  const env = {
    PORTICO_SUBGRAPH_URLS: Object.entries(subgraphUrlOverrides(mocks.mocks)).map(([k, v]) => `${k}=${v}`).join(','),
    PORTICO_REDIS_URL: redis.url,
    PORTICO_SUPERGRAPH_PATH: 'schemas/supergraph.graphql',
    PORTICO_SUPERGRAPH_PUSH: 'true',
    PORTICO_SUPERGRAPH_CACHE_DIR: join(dir, 'cache'),
    PORTICO_ADMIN_TOKEN: ADMIN,
    PORTICO_RATE_LIMIT_ENABLED: 'false',
  };
  const started = await Promise.all([0, 1, 2].map(() => spawnGateway(env)));
  for (const gw of started) {
    const [, port] = await gw.process.waitForOutput(/ops listener on [^:]+:(\d+)/, 10_000);
    gateways.push({ gw, ops: `http://127.0.0.1:${port}` });
  }
}, 90_000);

afterAll(async () => {
  await Promise.all(gateways.map(({ gw }) => gw.process.stop()));
  await mocks?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const controlPlane = async (ops: string) => ((await (await fetch(`${ops}/health/subgraphs`)).json()) as { gateway: { controlPlane: any } }).gateway.controlPlane;

it('a push reaches three gateway processes in ≤ 1 s; a promote on one is applied by all; status lists them', async () => {
  const v2 = `${readFileSync('schemas/supergraph.graphql', 'utf8')}\n# v2: pushed to three processes\n`;
  const file = join(dir, 'v2.graphql');
  writeFileSync(file, v2);
  const t0 = Date.now();
  expect((await publish({ file, redis: redis.url })).ok).toBe(true);
  const serving = await Promise.all(
    gateways.map(async ({ ops }) => {
      await until('the canary on this process', async () => (await controlPlane(ops)).canary?.hash === sha16(v2), 10_000, 5);
      return Date.now() - t0;
    }),
  );
  const delivered = await Promise.all(gateways.map(async ({ ops }) => Date.parse((await controlPlane(ops)).sources.push.lastReceived.at) - t0));
  console.log(`[control plane, 3 processes] push delivered in ${delivered.join(' / ')} ms; canary serving (as seen by polling /health/subgraphs) after ${serving.join(' / ')} ms`);
  expect(Math.max(...delivered)).toBeLessThanOrEqual(1_000);

  const promote = await fetch(`${gateways[0]!.ops}/admin/supergraph/promote`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
  expect(promote.status).toBe(200);
  for (const { ops } of gateways) {
    await until('promoted on this process', async () => (await controlPlane(ops)).serving.hash === sha16(v2), 5_000, 10);
    expect((await controlPlane(ops)).lastDecision).toMatchObject({ hash: sha16(v2), decision: 'promoted', by: expect.stringMatching(/^admin@/) });
  }
  // What each instance serves, from the command line (instances re-announce within 5 s).
  const status = await new Promise<string>((resolve, reject) =>
    execFile('npm', ['run', '--silent', 'supergraph', '--', 'status', '--redis', redis.url, '--json'], { timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  const s = JSON.parse(status) as { latest: string; instances: { hash: string; source: string; canary: unknown; stale: boolean }[] };
  expect(s.latest).toBe(sha16(v2));
  expect(s.instances).toHaveLength(3);
  for (const i of s.instances) expect(i).toMatchObject({ hash: sha16(v2), source: 'redis', canary: null, stale: false });
}, 60_000);
