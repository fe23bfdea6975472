/**
 * The oracle: bare `@apollo/gateway` + `@apollo/server`, nothing tuned, run as its own process
 * so nothing Portico does to its process (e.g. the flattened federation-internals exports,
 * src/runtime/flatExports.ts) reaches it. Served over `node:http` as startStandaloneServer does,
 * but with a keep-alive timeout longer than the client's: planning a large query blocks the
 * event loop for seconds, and at Node's default 5 s the server would close sockets the test
 * client is reusing (ECONNRESET on the client's side, not the gateway's answer).
 *
 * Env: ORACLE_SUPERGRAPH_PATH (the file Portico loads), ORACLE_SUBGRAPH_URLS (JSON object,
 * subgraph name → URL, overriding the supergraph's, as PORTICO_SUBGRAPH_URLS does).
 * Prints `ORACLE_READY <url>` once listening on a free loopback port; exits on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer, HeaderMap } from '@apollo/server';

// Before the gateway is constructed: no usage reporting, no cloud probes.
process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';

// @apollo/gateway refuses a supergraph that links a `for: SECURITY` feature it does not
// implement (the demo links authenticated and requiresScopes). Dropping only the purpose lets
// it load the same file; it then simply does not enforce them.
const SECURITY_PURPOSE = /(@link\(\s*url:\s*"https:\/\/specs\.apollo\.dev\/(?:authenticated|requiresScopes|policy)\/v[0-9.]+")\s*,\s*for:\s*SECURITY(\s*\))/g;

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

const supergraphSdl = readFileSync(required('ORACLE_SUPERGRAPH_PATH'), 'utf8').replace(SECURITY_PURPOSE, '$1$2');
const overrides = JSON.parse(process.env['ORACLE_SUBGRAPH_URLS'] ?? '{}') as Record<string, string>;

const gateway = new ApolloGateway({
  supergraphSdl,
  buildService: ({ name, url }) => new RemoteGraphQLDataSource({ url: overrides[name] ?? url }),
});
const apollo = new ApolloServer({ gateway, introspection: true, stopOnTerminationSignals: false });
await apollo.start();

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const http = createServer((req, res) => {
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
    res.end(JSON.stringify({ errors: [{ message: `oracle failure: ${String(err)}` }] }));
  });
});
http.keepAliveTimeout = 65_000;
http.headersTimeout = 66_000;
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
process.stdout.write(`ORACLE_READY http://127.0.0.1:${(http.address() as AddressInfo).port}/graphql\n`);

process.once('SIGTERM', () => {
  http.close();
  http.closeAllConnections();
  apollo.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
