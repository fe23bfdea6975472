import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real servers and processes start in the tests: give them room, but bound every test.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: run files in parallel forks, but never more than the machine has.
    pool: 'forks',
    maxWorkers: 2,
    env: { APOLLO_TELEMETRY_DISABLED: 'true', NODE_ENV: 'test' },
    reporters: ['default'],
  },
});
