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
