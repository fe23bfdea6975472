/**
 * Bare `@apollo/gateway` + `@apollo/server` (startStandaloneServer): the baseline every ratio in
 * the benchmark is taken against. Nothing is tuned; only the subgraph fetcher varies.
 *
 * Env:
 *   PORT                         listen port (127.0.0.1)
 *   BENCH_SUPERGRAPH_PATH        supergraph SDL file
 *   BENCH_APOLLO_FETCHER         `default` (RemoteGraphQLDataSource's own make-fetch-happen)
 *                                or `fetch` (Node's global fetch, i.e. undici)
 */
// Must be set before an ApolloGateway is constructed, or it reports usage to Apollo.
process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';

import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

type FetcherVariant = 'default' | 'fetch';
// Named through the data source's own options, so no transitive package is imported.
type Fetcher = NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher'];

function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const port = Number(requireEnv('PORT'));
  const supergraphSdl = readFileSync(requireEnv('BENCH_SUPERGRAPH_PATH'), 'utf8');
  const variant = (process.env['BENCH_APOLLO_FETCHER'] ?? 'default') as FetcherVariant;
  if (variant !== 'default' && variant !== 'fetch') {
    throw new Error(`BENCH_APOLLO_FETCHER must be "default" or "fetch", got "${String(variant)}"`);
  }

  const gateway = new ApolloGateway({
    supergraphSdl,
    ...(variant === 'fetch'
      ? {
          // The Fetcher type is a structural subset of WHATWG fetch; the cast bridges the
          // Request/Headers class names, not a behavioural difference.
          buildService: ({ url }) => new RemoteGraphQLDataSource({ url, fetcher: globalThis.fetch as unknown as Fetcher }),
        }
      : {}),
  });
  const server = new ApolloServer({ gateway });
  const { url } = await startStandaloneServer(server, { listen: { port, host: '127.0.0.1' } });
  process.stdout.write(`apollo-gateway (${variant} fetcher) ready at ${url}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
