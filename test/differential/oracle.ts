/**
 * The oracle: bare `@apollo/gateway` + `@apollo/server`, nothing tuned, run as its own process
 * so nothing Portico does to its process (e.g. the flattened federation-internals exports,
 * src/runtime/flatExports.ts) reaches it. Served as startStandaloneServer does, but with a
 * keep-alive timeout longer than the client's (../helpers/apolloHttp.ts): planning a large query
 * blocks the event loop for seconds, and at Node's default 5 s the server closed sockets the test
 * client was reusing (ECONNRESET on the client's side, not the gateway's answer).
 *
 * Env: ORACLE_SUPERGRAPH_PATH (the file Portico loads), ORACLE_SUBGRAPH_URLS (JSON object,
 * subgraph name → URL, overriding the supergraph's, as PORTICO_SUBGRAPH_URLS does).
 * Prints `ORACLE_READY <url>` once listening on a free loopback port; exits on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { listenApollo } from '../helpers/apolloHttp.ts';

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

const listener = await listenApollo(apollo, 'oracle');
process.stdout.write(`ORACLE_READY ${listener.url}\n`);

process.once('SIGTERM', () => {
  listener.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
