/**
 * Serves a started Apollo Server over `node:http` on a free loopback port, as
 * startStandaloneServer does, but with a keep-alive timeout longer than any client pool's idle
 * timeout: at Node's default (5 s) a gateway busy planning a large query reuses a socket the
 * server is closing, and the call fails with "socket hang up" (subgraphs-mock/server.ts does the
 * same for the demo mocks).
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';

const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface ApolloListener {
  /** `http://127.0.0.1:<port>/graphql` (any path is served). */
  readonly url: string;
  /** Closes the listener and its connections, then stops Apollo Server. */
  stop(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** @param name says whose failure it was in the 500 answer of an unexpected throw. */
export async function listenApollo(apollo: ApolloServer<BaseContext>, name: string): Promise<ApolloListener> {
  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: q === -1 ? '' : url.slice(q), body: raw === '' ? undefined : JSON.parse(raw) },
        context: async () => ({}),
      });
      res.writeHead(result.status ?? 200, Object.fromEntries(result.headers));
      if (result.body.kind === 'complete') {
        res.end(result.body.string);
        return;
      }
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: `[${name}] ${String(err)}` }] }));
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    async stop() {
      const closed = new Promise((r) => server.close(r));
      server.closeAllConnections();
      await closed;
      await apollo.stop();
    },
  };
}
