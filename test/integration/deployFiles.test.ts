import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

// No Docker engine here: the compose file is validated offline by Debian's docker-compose
// (installed by .ci/run), and the Dockerfile is checked for what matters to operators.
it('docker-compose.yml is valid compose configuration', () => {
  const out = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { encoding: 'utf8', timeout: 30_000 });
  expect(out).toMatch(/gateway:/);
  expect(out).toMatch(/mocks:/);
  expect(out).toContain('/health/ready');
});

it('the Dockerfile is multi-stage, runs as non-root, and health-checks readiness', () => {
  const df = readFileSync('Dockerfile', 'utf8');
  expect(df.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
  expect(df).toMatch(/^USER node$/m);
  expect(df).toMatch(/HEALTHCHECK[\s\S]*\/health\/ready/);
  expect(df).toMatch(/APOLLO_TELEMETRY_DISABLED=true/);
});
