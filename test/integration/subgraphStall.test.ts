import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSubgraphHttpClient } from '../../src/subgraphs/httpClient.ts';

// A subgraph that answers at once, then keeps this process's event loop busy: the answer sits
// in the gateway's socket while the call's timeout expires, as when the gateway plans a large
// query (or collects garbage) while other requests' subgraph calls are in flight.
const STALL_MS = 300;
const TIMEOUT_MS = 50;
let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.end('{"data":{"ok":true}}');
      const until = performance.now() + STALL_MS;
      while (performance.now() < until) {
        // Busy: simulates a CPU-heavy query plan on the gateway's event loop.
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  const closed = new Promise((r) => server.close(r));
  server.closeAllConnections();
  await closed;
});

it('an event-loop stall past the call timeout does not fail a subgraph call whose answer has arrived', async () => {
  const http = createSubgraphHttpClient();
  try {
    const answer = await http.post(url, {}, '{"query":"{ ok }"}', { timeoutMs: TIMEOUT_MS, onTimeout: () => new Error(`timed out after ${TIMEOUT_MS} ms`) });
    expect(answer).toEqual({ status: 200, text: '{"data":{"ok":true}}' });
  } finally {
    await http.close();
  }
});

it('a subgraph that has not answered still times out', async () => {
  const silent = createServer(() => {
    // Never answers.
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const http = createSubgraphHttpClient();
  try {
    const started = performance.now();
    await expect(
      http.post(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/graphql`, {}, '{}', { timeoutMs: TIMEOUT_MS, onTimeout: () => new Error('timed out') }),
    ).rejects.toThrow('timed out');
    expect(performance.now() - started).toBeLessThan(1_000);
  } finally {
    await http.close();
    const closed = new Promise((r) => silent.close(r));
    silent.closeAllConnections();
    await closed;
  }
});
