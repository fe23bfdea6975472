import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { parse } from 'yaml';

// No Docker engine here: the compose file is validated offline by Debian's docker-compose
// (installed by .ci/run), and the Dockerfile is checked for what matters to operators.
it('docker-compose.yml is valid compose configuration', () => {
  const out = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { encoding: 'utf8', timeout: 30_000 });
  expect(out).toMatch(/gateway:/);
  expect(out).toMatch(/mocks:/);
  expect(out).toContain('/health/ready');
});

it('docker-compose.yml runs the HA topology: three gateways behind HAProxy, sharing one Redis', () => {
  const config = parse(execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { encoding: 'utf8', timeout: 30_000 })) as {
    services: Record<string, { image?: string; deploy?: { replicas?: number }; environment?: Record<string, string>; ports?: unknown[]; volumes?: unknown[] }>;
  };
  const { gateway, haproxy, redis } = config.services;
  expect(gateway?.deploy?.replicas).toBe(3);
  // Replicas cannot share a host port: only HAProxy is published.
  expect(gateway?.ports ?? []).toEqual([]);
  expect(gateway?.environment).toMatchObject({ PORTICO_REDIS_URL: 'redis://redis:6379', PORTICO_TRUSTED_PROXY_HOPS: '1', PORTICO_RATE_LIMIT_INSTANCES: '3' });
  expect(haproxy?.image).toMatch(/^haproxy:2\.6/);
  expect(JSON.stringify(haproxy?.volumes)).toContain('deploy/haproxy/haproxy.cfg');
  expect(haproxy?.environment).toMatchObject({ PORTICO_LB_GW1: 'gateway:4000', PORTICO_LB_GW2: 'gateway:4000', PORTICO_LB_GW3: 'gateway:4000' });
  expect(JSON.stringify(haproxy?.ports)).toContain('8080');
  expect(redis?.image).toMatch(/^redis:/);
});

it('the Dockerfile is multi-stage, runs as non-root, and health-checks readiness', () => {
  const df = readFileSync('Dockerfile', 'utf8');
  expect(df.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
  expect(df).toMatch(/^USER node$/m);
  expect(df).toMatch(/HEALTHCHECK[\s\S]*\/health\/ready/);
  expect(df).toMatch(/APOLLO_TELEMETRY_DISABLED=true/);
});

it('every launcher of Portico passes the Node flags it is tuned for (src/runtime/nodeFlags.ts)', async () => {
  const { PORTICO_NODE_FLAGS } = await import('../../src/runtime/nodeFlags.ts');
  const flags = PORTICO_NODE_FLAGS.join(' ');
  expect(flags).toMatch(/^--max-semi-space-size=\d+$/);
  // The image: NODE_OPTIONS, so `node dist/src/main.js` and any exec'd node get them.
  expect(readFileSync('Dockerfile', 'utf8')).toContain(`NODE_OPTIONS=${flags}`);
  const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
  expect(scripts['start']).toContain(`node ${flags} `);
  expect(scripts['start:gateway']).toContain(`node ${flags} `);
  // The local cluster and the benchmark import the constant itself.
  expect(readFileSync('scripts/cluster/index.ts', 'utf8')).toContain('...PORTICO_NODE_FLAGS');
  expect(readFileSync('bench/gateways/index.ts', 'utf8')).toContain('PORTICO_NODE_FLAGS');
  // And V8 accepts them (a typo would stop every process at start).
  const out = execFileSync(process.execPath, [...PORTICO_NODE_FLAGS, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
  expect(out).toBe('ok');
});
