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
    // Real servers and processes start in the tests: give them room, but bound every test.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: run files in parallel forks, but never more than the machine has.
    pool: 'forks',
    maxWorkers: 2,
    env: { APOLLO_TELEMETRY_DISABLED: 'true', NODE_ENV: 'test' },
    reporters: ['default'],
    // The cluster and chaos files each run three gateways, HAProxy and Redis under load. Two of
    // them side by side on two cores starve each other: health checks time out, and a gateway's
    // overload guard rightly sheds a restarted instance's warm-up. So whatever set of files is
    // run (`npm test`, a subset by name, the shared checks), they run after the rest and one
    // file at a time: projects of a higher `groupOrder` start when the lower ones are done.
    projects: [
      { extends: true, test: { name: 'unit+integration', include: ['test/**/*.test.ts'], exclude: ['test/cluster/**', 'test/chaos/**'], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'cluster', include: ['test/cluster/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'chaos', include: ['test/chaos/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 2 } } },
    ],
  },
});
