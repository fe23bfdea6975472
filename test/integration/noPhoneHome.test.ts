import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAllMocks, subgraphUrlOverrides, type RunningMocks } from '../../subgraphs-mock/index.ts';
import { gql, PRODUCT_PAGE } from '../helpers/portico.ts';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|\[::1\]|::ffff:127\.\d+\.\d+\.\d+)$/;

let mocks: RunningMocks;
beforeAll(async () => {
  mocks = await startAllMocks({ ports: { product: 0, pricing: 0, inventory: 0, review: 0 }, faultsFromEnv: false });
});
afterAll(() => mocks.stop());

it('starting and using Portico opens no connection to anything outside loopback', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'portico-net-'));
  const audit = join(dir, 'net.jsonl');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: '0',
    PORTICO_HOST: '127.0.0.1',
    PORTICO_OPS_PORT: '0',
    PORTICO_SUBGRAPH_URLS: Object.entries(subgraphUrlOverrides(mocks.mocks)).map(([k, v]) => `${k}=${v}`).join(','),
    NET_AUDIT_FILE: audit,
  };
  // Portico itself must turn Apollo's telemetry off; the test environment must not do it for it.
  delete env.APOLLO_TELEMETRY_DISABLED;
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', './test/helpers/netAudit.mjs', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /"url":"(http:\/\/127\.0\.0\.1:\d+\/graphql)"/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`gateway exited early (${code}): ${out}`)));
    });
    const r = await gql(url, PRODUCT_PAGE, { first: 3 });
    expect(r.body.errors).toBeUndefined();
    child.kill('SIGTERM');
    await once(child, 'exit');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  const entries = (await readFile(audit, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { kind: string; host: string });
  // The audit works: it saw the calls to the four subgraphs.
  expect(entries.filter((e) => e.kind === 'tcp').length).toBeGreaterThanOrEqual(4);
  const outside = entries.filter((e) => !LOOPBACK.test(e.host));
  expect(outside).toEqual([]);
});
