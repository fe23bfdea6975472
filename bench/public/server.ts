/**
 * Serves the four public-benchmark subgraphs from one `node:http` server, one path each
 * (`/accounts`, `/inventory`, `/products`, `/reviews`), as the benchmark's Rust server does.
 * Built for load: keep-alive, no logging, no Apollo plugins that do per-field work.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { ApolloServer, HeaderMap } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { publicSubgraphUrl } from './compose.ts';
import { PUBLIC_SUBGRAPH_NAMES, PUBLIC_SUBGRAPHS } from './subgraphs.ts';
import type { PublicSubgraphName } from './subgraphs.ts';

// Longer than any client pool's idle timeout, so the client closes idle sockets, not us.
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface PublicSubgraphsOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Delay added to every request before it is executed, in ms (the benchmark's SUBGRAPH_DELAY_MS). */
  delayMs: number;
}

export interface RunningPublicSubgraphs {
  readonly port: number;
  readonly urls: Readonly<Record<PublicSubgraphName, string>>;
  stop(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startPublicSubgraphs(opts: PublicSubgraphsOptions): Promise<RunningPublicSubgraphs> {
  process.env['APOLLO_TELEMETRY_DISABLED'] ??= 'true';
  const servers = new Map<string, ApolloServer>();
  for (const name of PUBLIC_SUBGRAPH_NAMES) {
    const { typeDefs, resolvers } = PUBLIC_SUBGRAPHS[name];
    const server = new ApolloServer({
      schema: buildSubgraphSchema([{ typeDefs, resolvers }]),
      stopOnTerminationSignals: false,
      plugins: [
        ApolloServerPluginLandingPageDisabled(),
        ApolloServerPluginInlineTraceDisabled(),
        ApolloServerPluginCacheControlDisabled(),
      ],
    });
    await server.start();
    servers.set(`/${name}`, server);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const apollo = servers.get(q === -1 ? url : url.slice(0, q));
    const raw = await readBody(req);
    if (apollo === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (opts.delayMs > 0) await delay(opts.delayMs);
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: req.method ?? 'GET',
        headers,
        search: q === -1 ? '' : url.slice(q),
        body: raw === '' ? undefined : JSON.parse(raw),
      },
      context: async () => ({}),
    });
    res.statusCode = result.status ?? 200;
    for (const [key, value] of result.headers) res.setHeader(key, value);
    if (result.body.kind === 'complete') {
      res.setHeader('content-length', Buffer.byteLength(result.body.string));
      res.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  }

  const http = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"message":"internal"}]}');
      else res.destroy();
    });
  });
  http.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  http.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const urls = Object.fromEntries(PUBLIC_SUBGRAPH_NAMES.map((n) => [n, publicSubgraphUrl(n, port)])) as Record<
    PublicSubgraphName,
    string
  >;
  let stopping: Promise<void> | undefined;
  return {
    port,
    urls,
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeAllConnections();
        await closed;
        await Promise.all([...servers.values()].map((s) => s.stop()));
      })();
      return stopping;
    },
  };
}
