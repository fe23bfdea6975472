/**
 * Serves mock subgraphs over plain `node:http` with Apollo Server 5, applying the fault switch.
 *
 * Routes per mock: `POST|GET /graphql` (faultable), and the never-faulted control endpoints
 * `GET|POST|DELETE /faults` and `GET|DELETE /stats`. Built for load tests: keep-alive, no
 * per-request logging, no Apollo plugins that do per-field work.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { ApolloServer, HeaderMap } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { FaultInputError, FaultSwitch, faultsFromEnv, HUGE_BODY_BYTES, writeGarbage, writeGraphqlError, writeInjectedError, writeStream } from './faults.ts';
import type { FaultState } from './faults.ts';
import { cacheHintsPlugin } from './cacheHints.ts';
import { useCatalogSize } from './data.ts';
import { MOCK_SUBGRAPHS } from './registry.ts';
import { StatsRecorder } from './stats.ts';
import type { MockStats } from './stats.ts';
import { DEFAULT_MOCK_PORTS, MOCK_NAMES } from './subgraph.ts';
import type { MockName } from './subgraph.ts';

/** Default bind address: loopback only, mocks are never meant to be reachable from outside. */
export const DEFAULT_MOCK_HOST = '127.0.0.1';

/** Largest request body accepted, in bytes; far above any real query, small enough to bound memory. */
export const MAX_BODY_BYTES = 1_048_576;

// Idle keep-alive sockets live longer than any client pool's idle timeout, so the client, not the
// server, closes them; otherwise a request can race the server's close and fail with ECONNRESET.
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const HEADERS_TIMEOUT_MS = KEEP_ALIVE_TIMEOUT_MS + 1_000;

const GRAPHQL_PATH = '/graphql';
const FAULTS_PATH = '/faults';
const STATS_PATH = '/stats';

export interface StartMockOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Bind address; default {@link DEFAULT_MOCK_HOST}. */
  host?: string;
  /** Initial faults, merged onto the defaults. @throws FaultInputError when invalid. */
  faults?: Partial<FaultState>;
  /**
   * Send `Cache-Control` hints (./cacheHints.ts). Default false: tests of other concerns count
   * every subgraph call; the demo (`npm start`, `start:mocks`) and the cache tests turn them on.
   */
  cacheHints?: boolean;
}

/** A started mock subgraph. */
export interface RunningMock {
  readonly name: MockName;
  readonly port: number;
  /** `http://127.0.0.1:<port>/graphql` (the bound host). */
  readonly url: string;
  /** The live fault switch; changes apply to the next request. */
  readonly faults: FaultSwitch;
  stats(): MockStats;
  resetStats(): void;
  /** Closes the listener and every open socket (hung requests included). Idempotent. */
  stop(): Promise<void>;
}

function writeJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

class BodyTooLargeError extends Error {}

/** Reads the whole request body as UTF-8. @throws BodyTooLargeError beyond {@link MAX_BODY_BYTES}. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function toHeaderMap(req: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

/**
 * Starts one mock subgraph.
 * @throws when the port cannot be bound (message names the mock and port), or faults are invalid.
 */
export async function startMock(name: MockName, opts: StartMockOptions = {}): Promise<RunningMock> {
  const definition = MOCK_SUBGRAPHS[name];
  const host = opts.host ?? DEFAULT_MOCK_HOST;
  const faults = new FaultSwitch(opts.faults);
  const stats = new StatsRecorder();
  const instance = definition.create(stats);

  // Mocks are not gateways, but Apollo Server shares the telemetry switch; keep it off.
  process.env['APOLLO_TELEMETRY_DISABLED'] ??= 'true';
  const apollo = new ApolloServer<object>({
    schema: buildSubgraphSchema([{ typeDefs: definition.typeDefs, resolvers: instance.resolvers }]),
    includeStacktraceInErrorResponses: false,
    // The process that started the mock owns signal handling (tests, main.ts).
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // Both wrap every field resolver; nothing reads their output, so they are pure cost.
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      ...(opts.cacheHints ? [cacheHintsPlugin(name)] : []),
    ],
  });
  await apollo.start();

  async function executeGraphql(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw: string;
    try {
      raw = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLargeError) return writeJson(res, 413, { errors: [{ message: `body exceeds ${MAX_BODY_BYTES} bytes` }] });
      throw err;
    }
    let body: unknown = raw;
    if (raw !== '' && (req.headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(raw);
      } catch {
        return writeJson(res, 400, { errors: [{ message: 'request body is not valid JSON' }] });
      }
    }
    stats.count('graphqlRequests');
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: req.method ?? 'GET',
        headers: toHeaderMap(req),
        search: queryStart === -1 ? '' : url.slice(queryStart),
        body,
      },
      context: async () => instance.createContext({ headers: req.headers }),
    });
    if (res.destroyed) return;
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

  /** Everything that is not a control endpoint goes through the fault switch first. */
  async function handleFaultable(req: IncomingMessage, res: ServerResponse, isGraphql: boolean): Promise<void> {
    // Recorded before any fault applies, so tests can prove forwarding even to a broken subgraph.
    if (isGraphql) stats.requestStarted(req.headers);
    const action = faults.next();
    if (action.kind === 'refuse') {
      if (isGraphql) stats.requestEnded();
      stats.count('refused');
      // RST rather than FIN: the client sees a reset connection, not an empty reply.
      req.socket.resetAndDestroy();
      return;
    }
    if (isGraphql) {
      res.once('close', () => {
        stats.requestEnded();
        if (!res.writableFinished) stats.count('aborted');
      });
    }
    if (action.kind === 'hang') return; // Never answer; 'close' above counts the abort.
    if (action.kind === 'graphql-error') return writeGraphqlError(res);
    if (action.kind === 'huge') return writeStream(res, HUGE_BODY_BYTES, action.declared);
    if (action.kind === 'endless') return writeStream(res, Number.POSITIVE_INFINITY);

    if (action.delayMs > 0) {
      // Only delayed requests pay for an AbortController; the healthy path allocates nothing extra.
      const gone = new AbortController();
      const onClose = (): void => gone.abort();
      res.once('close', onClose);
      try {
        await delay(action.delayMs, undefined, { signal: gone.signal });
      } catch {
        return; // Client left during the delay: do no further work.
      }
      res.off('close', onClose);
    }
    if (action.cpuMs > 0) {
      // A costly resolver: the process does nothing else meanwhile, on purpose.
      const until = performance.now() + action.cpuMs;
      while (performance.now() < until);
    }
    if (action.injectStatus !== undefined) return writeInjectedError(res, action.injectStatus);
    if (action.garbage) return writeGarbage(res);
    if (!isGraphql) return writeJson(res, 404, { error: `no route; try POST ${GRAPHQL_PATH}` });
    return executeGraphql(req, res);
  }

  async function handleFaults(req: IncomingMessage, res: ServerResponse): Promise<void> {
    switch (req.method) {
      case 'GET':
        return writeJson(res, 200, faults.get());
      case 'DELETE':
        return writeJson(res, 200, faults.reset());
      case 'POST': {
        let input: unknown;
        try {
          const raw = await readBody(req);
          input = raw.trim() === '' ? {} : JSON.parse(raw);
        } catch {
          return writeJson(res, 400, { error: `invalid fault settings: body must be a JSON object of at most ${MAX_BODY_BYTES} bytes` });
        }
        try {
          return writeJson(res, 200, faults.set(input as Partial<FaultState>));
        } catch (err) {
          if (err instanceof FaultInputError) return writeJson(res, 400, { error: err.message, problems: err.problems });
          throw err;
        }
      }
      default:
        res.setHeader('allow', 'GET, POST, DELETE');
        return writeJson(res, 405, { error: `${req.method ?? ''} not allowed on ${FAULTS_PATH}` });
    }
  }

  function handleStats(req: IncomingMessage, res: ServerResponse): void {
    switch (req.method) {
      case 'GET':
        return writeJson(res, 200, stats.snapshot());
      case 'DELETE':
        stats.reset();
        return writeJson(res, 200, stats.snapshot());
      default:
        res.setHeader('allow', 'GET, DELETE');
        return writeJson(res, 405, { error: `${req.method ?? ''} not allowed on ${STATS_PATH}` });
    }
  }

  function route(req: IncomingMessage, res: ServerResponse): Promise<void> | void {
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    if (path === FAULTS_PATH) return handleFaults(req, res);
    if (path === STATS_PATH) return handleStats(req, res);
    return handleFaultable(req, res, path === GRAPHQL_PATH);
  }

  const server: Server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    Promise.resolve(route(req, res)).catch(() => {
      // An unexpected failure must not leave the client waiting; there is no logger in a mock.
      if (!res.headersSent) writeJson(res, 500, { errors: [{ message: `[${name}] mock internal error` }] });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await apollo.stop();
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new Error(`[${name}] mock could not listen on ${host}:${opts.port ?? 0} (${code})`, { cause: err });
  }
  const port = (server.address() as AddressInfo).port;

  let stopping: Promise<void> | undefined;
  return {
    name,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${GRAPHQL_PATH}`,
    faults,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        await apollo.stop();
      })();
      return stopping;
    },
  };
}

export interface StartAllMocksOptions {
  /** Port per mock; default {@link DEFAULT_MOCK_PORTS}. Pass 0 for a free port. */
  ports?: Partial<Record<MockName, number>>;
  /** Bind address; default {@link DEFAULT_MOCK_HOST}. */
  host?: string;
  /** Read `PORTICO_MOCK_<NAME>_FAULTS` for initial faults; default true. */
  faultsFromEnv?: boolean;
  /** Environment to read faults from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Send cache hints (see {@link StartMockOptions.cacheHints}); default false. */
  cacheHints?: boolean;
  /** Products in the catalogue of this process (`useCatalogSize`); default `PRODUCT_COUNT`. */
  catalogSize?: number;
}

export interface RunningMocks {
  readonly mocks: Readonly<Record<MockName, RunningMock>>;
  /** Stops every mock. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts all four mocks. If one fails, those already started are stopped and the error rethrown.
 * @throws FaultInputError naming the env var when env faults are invalid (checked before binding).
 */
export async function startAllMocks(opts: StartAllMocksOptions = {}): Promise<RunningMocks> {
  const env = opts.env ?? process.env;
  const readEnv = opts.faultsFromEnv ?? true;
  if (opts.catalogSize !== undefined) useCatalogSize(opts.catalogSize);
  // Validate every env var first, so a typo fails fast without ports half bound.
  const initialFaults = new Map<MockName, FaultState | undefined>(
    MOCK_NAMES.map((name) => [name, readEnv ? faultsFromEnv(name, env) : undefined]),
  );
  const results = await Promise.allSettled(
    MOCK_NAMES.map((name) => {
      const initial = initialFaults.get(name);
      return startMock(name, {
        port: opts.ports?.[name] ?? DEFAULT_MOCK_PORTS[name],
        ...(opts.host !== undefined ? { host: opts.host } : {}),
        ...(initial !== undefined ? { faults: initial } : {}),
        ...(opts.cacheHints ? { cacheHints: true } : {}),
      });
    }),
  );
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(started.map((m) => m.stop()));
    throw failure.reason;
  }
  const mocks = Object.fromEntries(started.map((m) => [m.name, m])) as Record<MockName, RunningMock>;
  let stopping: Promise<void> | undefined;
  return {
    mocks,
    stop() {
      stopping ??= Promise.all(started.map((m) => m.stop())).then(() => undefined);
      return stopping;
    },
  };
}

/**
 * Subgraph name → GraphQL URL of running mocks, for pointing a gateway at port-0 mocks
 * (e.g. as URL overrides when loading the committed supergraph).
 */
export function subgraphUrlOverrides(
  mocks: Partial<Record<MockName, RunningMock>> | readonly RunningMock[],
): Record<string, string> {
  const list = Array.isArray(mocks) ? (mocks as readonly RunningMock[]) : Object.values(mocks);
  return Object.fromEntries(list.filter((m): m is RunningMock => m !== undefined).map((m) => [m.name, m.url]));
}
