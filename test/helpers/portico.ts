import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { createLogger, type Logger } from '../../src/logging/index.ts';
import { createPortico, type Portico } from '../../src/server.ts';
import { startAllMocks, subgraphUrlOverrides, type RunningMocks } from '../../subgraphs-mock/index.ts';

process.env.APOLLO_TELEMETRY_DISABLED = 'true';

/** Log lines a test can inspect (JSON objects), captured instead of printed. */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, cb) => {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      cb();
    },
  });
  find(pred: (l: Record<string, unknown>) => boolean) {
    return this.lines.filter(pred);
  }
}

export interface RunningPortico {
  url: string;
  /** Base URL of the ops listener (metrics, /health/subgraphs, /status, admin); '' when disabled. */
  opsUrl: string;
  graphqlUrl: string;
  portico: Portico;
  config: Config;
  logs: LogCapture;
  logger: Logger;
  stop(): Promise<void>;
}

/** Starts Portico on port 0 with the given env overrides (strings, as in process.env). */
export async function startPortico(env: Record<string, string | undefined> = {}): Promise<RunningPortico> {
  // Synthetic probes (on by default in a deployment) would add their own subgraph calls to
  // tests that count calls or breaker windows; tests that are about probes turn them on.
  const config = loadConfig({ NODE_ENV: 'test', PORT: '0', PORTICO_HOST: '127.0.0.1', PORTICO_OPS_PORT: '0', PORTICO_LOG_LEVEL: 'info', PORTICO_PROBES_ENABLED: 'false', ...env });
  const logs = new LogCapture();
  const logger = createLogger({ level: config.log.level }, logs.stream);
  const portico = createPortico(config, { logger });
  const { url, opsUrl } = await portico.start();
  return { url, opsUrl: opsUrl ?? '', graphqlUrl: `${url}/graphql`, portico, config, logs, logger, stop: () => portico.stop() };
}

export interface Stack {
  mocks: RunningMocks;
  gw: RunningPortico;
  gql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlResult>;
  stop(): Promise<void>;
}

export interface GqlResult {
  status: number;
  headers: Headers;
  body: { data?: any; errors?: any; extensions?: any };
}

/**
 * The four demo mocks on free ports and a Portico pointed at them. `cacheHints`: the mocks send
 * their `Cache-Control` hints as in the demo (off by default: most suites count every call).
 */
export async function startStack(env: Record<string, string | undefined> = {}, options: { cacheHints?: boolean } = {}): Promise<Stack> {
  const mocks = await startAllMocks({ ports: { product: 0, pricing: 0, inventory: 0, review: 0 }, faultsFromEnv: false, cacheHints: options.cacheHints ?? false });
  const overrides = Object.entries(subgraphUrlOverrides(mocks.mocks)).map(([k, v]) => `${k}=${v}`).join(',');
  let gw: RunningPortico;
  try {
    gw = await startPortico({ PORTICO_SUBGRAPH_URLS: overrides, ...env });
  } catch (err) {
    await mocks.stop();
    throw err;
  }
  return {
    mocks,
    gw,
    gql: (query, variables, headers) => gql(gw.graphqlUrl, query, variables, headers),
    async stop() {
      await gw.stop();
      await mocks.stop();
    },
  };
}

export async function gql(url: string, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GqlResult> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: GqlResult['body'];
  try {
    body = JSON.parse(text) as GqlResult['body'];
  } catch {
    throw new Error(`non-JSON answer (HTTP ${res.status}): ${text.slice(0, 200)}`);
  }
  return { status: res.status, headers: res.headers, body };
}

export const PRODUCT_PAGE = /* GraphQL */ `
  query ProductPage($first: Int = 20) {
    products(first: $first) {
      id
      name
      category
      price { amount currency }
      inventory { inStock quantity warehouse }
      reviews(first: 3) { id rating body author }
      averageRating
    }
  }
`;
