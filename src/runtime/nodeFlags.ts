/**
 * The Node.js flags Portico is tuned for. They cannot be set from inside the process (V8 sizes
 * its heap before any code runs), so every launcher passes them: the Docker image through
 * NODE_OPTIONS, `npm start` / `npm run start:gateway`, the local cluster and the benchmark.
 * `test/integration/deployFiles.test.ts` keeps those in step with this list.
 *
 * `--max-semi-space-size=64` (MB): a gateway allocates a lot of short-lived objects per request
 * (subgraph JSON, merged results, the response). V8's default young generation (16 MB
 * semi-spaces on a 64-bit machine with this much memory) fills every few milliseconds under
 * load and its scavenges took 15-21 % of the CPU in profiles. 64 MB semi-spaces cut the number
 * of scavenges ~4x; they cost up to ~130 MB more RSS at peak. Figures: docs/benchmarks.md.
 */
export const PORTICO_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
