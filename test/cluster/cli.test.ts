/**
 * `npm run cluster` as the HA smoke check drives it: started as a process (here on free ports
 * through its environment overrides), answered through HAProxy, one instance SIGTERMed and not
 * restarted while the others serve, and no process left behind when the script itself dies.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { MOCK_NAMES } from '../../subgraphs-mock/subgraph.ts';
import { freePorts } from '../../devkit/ports.ts';
import { until } from '../../devkit/wait.ts';

const logDir = mkdtempSync(join(tmpdir(), 'portico-cli-'));
let cliPgid: number | undefined;
let childPids: number[] = [];

/** Alive and not a zombie (a reparented child may wait for a reaper that never comes). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  return !existsSync(stat) || !/^\d+ \(.*\) Z/.test(readFileSync(stat, 'utf8'));
}

afterAll(() => {
  // Whatever happened above, nothing this test started survives it.
  for (const pid of [...(cliPgid ? [-cliPgid] : []), ...childPids]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(logDir, { recursive: true, force: true });
});

it('serves through HAProxy, lets a killed instance stay dead, and leaves nothing behind when it dies', async () => {
  const [lb, stats, redis, idp, g1, g2, g3, o1, o2, o3, ...mocks] = await freePorts(10 + MOCK_NAMES.length);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    APOLLO_TELEMETRY_DISABLED: 'true',
    PORTICO_LOG_LEVEL: 'warn',
    PORTICO_CLUSTER_LB_PORT: String(lb),
    PORTICO_CLUSTER_LB_STATS_PORT: String(stats),
    PORTICO_CLUSTER_REDIS_PORT: String(redis),
    PORTICO_CLUSTER_GATEWAY_PORTS: `${g1},${g2},${g3}`,
    PORTICO_CLUSTER_OPS_PORTS: `${o1},${o2},${o3}`,
    PORTICO_MOCK_IDP_PORT: String(idp),
    PORTICO_CLUSTER_LOG_DIR: logDir,
  };
  MOCK_NAMES.forEach((n, i) => (env[`PORTICO_MOCK_${n.toUpperCase()}_PORT`] = String(mocks[i])));
  const cli = spawn(process.execPath, ['--import', 'tsx', 'scripts/cluster/main.ts'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  cliPgid = cli.pid;
  let out = '';
  cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
  cli.stderr.on('data', (d: Buffer) => (out += d.toString()));

  await until('the cluster to be ready', () => out.includes('Portico cluster ready') || cli.exitCode !== null, 60_000, 50);
  expect(out).toContain('Portico cluster ready');
  // The table names every process with its pid and log file.
  childPids = [...out.matchAll(/\s(\d+)\s+\S+\.log$/gm)].map((m) => Number(m[1]));
  expect(childPids).toHaveLength(6); // haproxy, gw1..gw3, redis, mocks
  const gw1Pid = Number(/gateway gw1 .*?\s(\d+)\s+gw1\.log$/m.exec(out)?.[1]);

  const page = () =>
    fetch(`http://127.0.0.1:${lb}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ products(first: 2) { id price { amount } } }' }) });
  expect((await page()).status).toBe(200);

  // What the smoke check does: SIGTERM one instance. It drains, exits and stays down.
  process.kill(gw1Pid, 'SIGTERM');
  await until('the script to report the exit', () => /gw1 \(pid \d+\) exited \(code 0\); not restarted/.test(out), 20_000, 50);
  for (let i = 0; i < 6; i++) expect((await page()).status).toBe(200);
  expect(alive(gw1Pid)).toBe(false);

  // The script dies without cleaning up: the reaper stops every process group it started.
  process.kill(-cli.pid!, 'SIGKILL');
  await until('every child of the dead script to be gone', () => childPids.every((pid) => !alive(pid)), 15_000, 100);
});
