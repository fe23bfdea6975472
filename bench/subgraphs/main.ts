/**
 * Child-process entry that serves one set of subgraphs for the benchmark, in its own event loop:
 *
 *   node --import tsx bench/subgraphs/main.ts demo     # the four Portico demo mocks (free ports)
 *   node --import tsx bench/subgraphs/main.ts public   # the public benchmark's four subgraphs
 *
 * Env: BENCH_SUBGRAPH_DELAY_MS (public set only: delay per request, ms; the demo mocks get
 * theirs through their `/faults` switch); BENCH_CATALOG_SIZE (demo set only: products in the mock
 * catalogue, default its 1,200). Prints one line `BENCH_READY <json>` on stdout once
 * every subgraph listens; exits on SIGTERM/SIGINT or when the harness (BENCH_PARENT_PID) is gone.
 */
import { startAllMocks } from '../../subgraphs-mock/index.ts';
import { startPublicSubgraphs } from '../public/server.ts';
import { watchParent } from '../lib/parent.ts';
import { READY_PREFIX } from '../lib/protocol.ts';
import type { SubgraphsReady } from '../lib/protocol.ts';

async function main(set: string | undefined): Promise<void> {
  let ready: SubgraphsReady;
  let stop: () => Promise<void>;
  if (set === 'demo') {
    // Port 0 everywhere: never collide with a developer's `npm start` on 4001-4004.
    const running = await startAllMocks({
      ports: { product: 0, pricing: 0, inventory: 0, review: 0 },
      faultsFromEnv: false,
      // The cache benchmark serves the demo's cache hints; the others keep measuring every call.
      cacheHints: process.env['BENCH_CACHE_HINTS'] === '1',
      // The cache benchmark pages over the 10,000 products issue 17 names; the others keep 1,200.
      ...(process.env['BENCH_CATALOG_SIZE'] ? { catalogSize: Number(process.env['BENCH_CATALOG_SIZE']) } : {}),
    });
    const mocks = Object.values(running.mocks);
    ready = {
      urls: Object.fromEntries(mocks.map((m) => [m.name, m.url])),
      faultUrls: Object.fromEntries(mocks.map((m) => [m.name, m.url.replace(/\/graphql$/, '/faults')])),
    };
    stop = () => running.stop();
  } else if (set === 'public') {
    const delayMs = Number(process.env['BENCH_SUBGRAPH_DELAY_MS'] ?? '0');
    if (!Number.isInteger(delayMs) || delayMs < 0) throw new Error(`BENCH_SUBGRAPH_DELAY_MS must be an integer >= 0 (ms), got ${delayMs}`);
    const running = await startPublicSubgraphs({ port: 0, delayMs });
    ready = { urls: { ...running.urls }, faultUrls: {} };
    stop = () => running.stop();
  } else {
    throw new Error(`usage: bench/subgraphs/main.ts demo|public (got ${set ?? 'nothing'})`);
  }

  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  watchParent(shutdown);
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(ready)}\n`);
}

main(process.argv[2]).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
