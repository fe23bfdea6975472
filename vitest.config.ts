import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Node (and so production) loads graphql's CommonJS build, as @apollo/* does; Vite would pick
    // its ESM build for our files and graphql-js rejects objects from the other copy.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
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
