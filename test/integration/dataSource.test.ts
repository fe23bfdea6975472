import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'graphql';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PorticoContext } from '../../src/request/context.ts';
import { ANONYMOUS } from '../../src/auth/principal.ts';
import { createLogger } from '../../src/logging/index.ts';
import { createBreakerRegistry } from '../../src/resilience/breakers.ts';
import { createInflightDedup } from '../../src/resilience/dedup.ts';
import { createMemoryStaleStore } from '../../src/degradation/staleStore.ts';
import { until } from '../../devkit/wait.ts';
import { createSubgraphHttpClient } from '../../src/subgraphs/httpClient.ts';
import { SubgraphDataSource } from '../../src/subgraphs/dataSource.ts';
import type { SharedCall } from '../../src/subgraphs/types.ts';

// A subgraph that answers every entity lookup at once, except those asking for id "slow",
// which it holds until the client gives up (and counts the abort).
let server: Server;
let url: string;
let aborted = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const reps = (JSON.parse(body) as { variables: { representations: { id: string }[] } }).variables.representations;
      if (reps.some((r) => r.id === 'slow')) {
        res.on('close', () => aborted++);
        return; // never answers
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: { _entities: reps.map((r) => ({ price: { amount: Number(r.id) } })) } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const QUERY = 'query P($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { price { amount } } } }';

function context(): PorticoContext {
  const logger = createLogger({ level: 'silent' });
  return {
    requestId: 'r',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    log: logger,
    principal: ANONYMOUS,
    startedAt: performance.now(),
    deadlineAt: performance.now() + 5_000,
    signal: new AbortController().signal,
    subgraphsTouched: new Set(),
    degraded: [],
    sharedResponse: false,
  };
}

it('one of 50 concurrent calls times out; the other 49 on the same breaker key succeed', async () => {
  const logger = createLogger({ level: 'silent' });
  const ds = new SubgraphDataSource(
    { name: 'pricing', url, policyFor: () => ({ timeoutMs: 2_000, fallback: 'null', slowCallMs: undefined }), maxInFlight: 100, dedup: true, retry: true, maxResponseBytes: 16 * 1_048_576 },
    { logger, http: createSubgraphHttpClient(), breakers: createBreakerRegistry({ volumeThreshold: 1000 }, { logger }), inflight: createInflightDedup<SharedCall>(), stale: createMemoryStaleStore() },
  );
  const document = parse(QUERY);
  const contexts = Array.from({ length: 50 }, () => context());
  const results = await Promise.all(
    contexts.map((ctx, i) =>
      ds.process({
        kind: 'incoming operation',
        request: { query: QUERY, variables: { representations: [{ __typename: 'Product', id: i === 17 ? 'slow' : String(i) }] } },
        context: ctx,
        document,
        pathInIncomingRequest: ['products', '@'],
      } as never),
    ),
  );
  results.forEach((r, i) => {
    const entity = (r.data as { _entities: unknown[] })._entities[0];
    if (i === 17) {
      expect(entity).toBeNull();
      expect(contexts[i]!.degraded[0]?.code).toBe('SUBGRAPH_TIMEOUT');
    } else {
      expect(entity).toEqual({ price: { amount: i } });
      expect(contexts[i]!.degraded).toEqual([]);
    }
  });
  // The timed-out call's socket is really closed (the server sees it go).
  await until('the server to see the aborted request', () => aborted === 1);
});
