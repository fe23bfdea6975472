/**
 * `npm start`: the whole demo in one process — the four mock subgraphs, the development
 * identity provider and the gateway — with embedded defaults (no Redis needed). Ctrl-C or
 * SIGTERM stops everything. For real topologies use `npm run start:gateway` / `start:mocks`.
 */
import { ConfigError, loadConfig } from '../src/config/index.ts';
import { createPortico } from '../src/server.ts';
import { DEV_AUDIENCE, DEV_ISSUER } from '../subgraphs-mock/idp.ts';
import { startDemoBackends } from '../subgraphs-mock/main.ts';

process.env.APOLLO_TELEMETRY_DISABLED = 'true';

const EXAMPLE_QUERY = `{ products(first: 3) { id name price { amount currency } inventory { inStock quantity } reviews(first: 2) { rating body } averageRating } }`;

const started = Date.now();
const backends = await startDemoBackends();
// Development defaults: trust the dev IdP's keys. Anything set in the environment wins.
const devDefaults: Record<string, string> = {
  // Wherever the mocks actually listen (PORTICO_MOCK_<NAME>_PORT may move them).
  PORTICO_SUBGRAPH_URLS: Object.values(backends.mocks.mocks).map((m) => `${m.name}=${m.url}`).join(','),
  PORTICO_JWKS_URL: backends.idp.jwksUrl,
  PORTICO_JWT_ISSUER: DEV_ISSUER,
  PORTICO_JWT_AUDIENCE: DEV_AUDIENCE,
  // Reviews change slowly and a few-minutes-old list misleads nobody: their last good values
  // are kept even without a cache hint. Prices and stock are served stale only from the cache,
  // within its stale-if-error window (PORTICO_CACHE_STALE_IF_ERROR_S, marked stale in
  // extensions.degraded so the UI can say so); past it they degrade to null.
  PORTICO_FALLBACKS: 'review:Product=stale',
};
let config;
try {
  config = loadConfig({ ...devDefaults, ...process.env });
} catch (err) {
  await backends.stop();
  if (err instanceof ConfigError) {
    process.stderr.write(`portico: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
const portico = createPortico(config);
// The demo's fault switch is how people watch Portico degrade: a fault dropped on a mock also
// drops what the gateway cached from it, so the next page shows the outage (null or marked
// stale fields, breakers) instead of fresh cached values for up to the hint's max-age.
for (const m of Object.values(backends.mocks.mocks)) {
  m.faults.onChange(() => void portico.parts.cache.invalidate({ by: 'subgraph', subgraph: m.name }));
}
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) process.exit(1);
  stopping = true;
  portico.logger.info({ signal }, 'stopping gateway and mocks');
  await portico.stop().catch(() => undefined);
  await backends.stop().catch(() => undefined);
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

try {
  const { url } = await portico.start();
  const body = JSON.stringify({ query: EXAMPLE_QUERY });
  process.stdout.write(
    [
      '',
      `Portico is ready in ${Date.now() - started} ms.`,
      `  Apollo Sandbox:  open ${url}/graphql in a browser`,
      `  GraphQL:         POST ${url}/graphql`,
      `  Mocks:           ${Object.values(backends.mocks.mocks).map((m) => `${m.name} :${m.port}`).join(', ')}  (faults: POST /faults on each)`,
      `  Dev token:       npm run token -- --sub alice --scopes review:write --tier premium`,
      '',
      'Try the product page (data from all four subgraphs in one request):',
      `  curl -s ${url}/graphql -H 'content-type: application/json' -d '${body}'`,
      '',
    ].join('\n') + '\n',
  );
} catch (err) {
  process.stderr.write(`portico: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
  await backends.stop();
  process.exit(1);
}
