/**
 * The gateways under test and how each is started. Every one is a separate child process on the
 * same supergraph file, port and load; see run.ts for the order and pinning.
 *
 * ── Portico variants: THE table to edit when a feature lands ─────────────────────────────────
 * `env` is added to the common env (PORT, PORTICO_SUPERGRAPH_PATH, PORTICO_SUBGRAPH_URLS,
 * NODE_ENV=production). `headers` go on every benchmark request (e.g. a bearer token when JWT
 * verification is on). Keep any rate limit far above what 50 connections can send
 * (~5,000 req/s here), or the benchmark measures the limiter's 429s.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export type PorticoVariantName = 'portico-full' | 'portico-lean';

export interface PorticoVariant {
  /** One line for the results table. */
  readonly summary: string;
  /** What deduplicates requests in this variant (shown in the results' dedup column). */
  readonly dedup: string;
  readonly env: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
}

export const PORTICO_VARIANTS: Readonly<Record<PorticoVariantName, PorticoVariant>> = {
  'portico-full': {
    summary: 'every feature on',
    dedup: 'per Portico config (TODO(lead): name it)',
    env: {
      PORTICO_LOG_LEVEL: 'warn',
      // TODO(lead): switch every optional feature on as it lands, e.g.
      //   JWT auth:        PORTICO_JWT_*=…            (+ headers.authorization below)
      //   Redis limiter:   PORTICO_REDIS_URL=redis://127.0.0.1:6379, a limit >> 5,000 req/s
      //   metrics:         PORTICO_METRICS_PORT=…     (ops listener on loopback)
      //   dedup / breaker / retries / stale fallback: their switches
    },
    headers: {
      // TODO(lead): authorization: `Bearer ${token}` once JWT verification is on.
    },
  },
  'portico-lean': {
    summary: 'optional features off',
    dedup: 'per Portico config (TODO(lead): name it)',
    env: {
      PORTICO_LOG_LEVEL: 'warn',
      // TODO(lead): switch every optional feature off explicitly (auth, limiter, metrics, …).
    },
    headers: {},
  },
};

// ─────────────────────────────────────────────────────────────────────────────────────────────

export type GatewayName = PorticoVariantName | 'apollo-gateway-default' | 'apollo-gateway-fetch' | 'hive-gateway';

/** Default run order within a round: baseline first, so it also supplies the golden answers. */
export const GATEWAY_ORDER: readonly GatewayName[] = [
  'apollo-gateway-default',
  'apollo-gateway-fetch',
  'hive-gateway',
  'portico-lean',
  'portico-full',
];

/** The gateway every req/s ratio is taken against. */
export const BASELINE: GatewayName = 'apollo-gateway-default';

/** What a started gateway needs to know about its run. */
export interface LaunchContext {
  readonly root: string;
  readonly port: number;
  readonly supergraphPath: string;
  /** Subgraph name → URL, also baked into the supergraph file. */
  readonly subgraphUrlOverrides: string;
}

export interface GatewaySpec {
  readonly name: GatewayName;
  readonly summary: string;
  readonly dedup: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Why it cannot run here, or undefined when it can. */
  unavailable(root: string): string | undefined;
  /** Node arguments after the executable (the preload is added by the harness). */
  entry(root: string): string[];
  /** Env on top of the harness's common env. */
  env(ctx: LaunchContext): Record<string, string>;
}

/** Portico's entry: the built JS when BENCH_PORTICO_DIST=1 and it exists, else the TS source. */
function porticoEntry(root: string): string {
  const dist = resolve(root, 'dist/src/main.js');
  return process.env['BENCH_PORTICO_DIST'] === '1' && existsSync(dist) ? dist : resolve(root, 'src/main.ts');
}

function portico(name: PorticoVariantName): GatewaySpec {
  const variant = PORTICO_VARIANTS[name];
  return {
    name,
    summary: `Portico, ${variant.summary}`,
    dedup: variant.dedup,
    headers: variant.headers,
    unavailable: (root) =>
      existsSync(porticoEntry(root)) ? undefined : 'src/main.ts does not exist yet: Portico rows skipped',
    entry: (root) => [porticoEntry(root)],
    env: (ctx) => ({
      PORT: String(ctx.port),
      PORTICO_SUPERGRAPH_PATH: ctx.supergraphPath,
      PORTICO_SUBGRAPH_URLS: ctx.subgraphUrlOverrides,
      ...variant.env,
    }),
  };
}

function apollo(name: 'apollo-gateway-default' | 'apollo-gateway-fetch', fetcher: 'default' | 'fetch'): GatewaySpec {
  return {
    name,
    summary:
      fetcher === 'default'
        ? 'bare @apollo/gateway + @apollo/server standalone, default fetcher (make-fetch-happen)'
        : 'bare @apollo/gateway + @apollo/server standalone, fetcher: globalThis.fetch (undici)',
    dedup: 'none',
    headers: {},
    unavailable: () => undefined,
    entry: (root) => [resolve(root, 'bench/gateways/apollo.ts')],
    env: (ctx) => ({ PORT: String(ctx.port), BENCH_SUPERGRAPH_PATH: ctx.supergraphPath, BENCH_APOLLO_FETCHER: fetcher }),
  };
}

export const GATEWAYS: Readonly<Record<GatewayName, GatewaySpec>> = {
  'portico-full': portico('portico-full'),
  'portico-lean': portico('portico-lean'),
  'apollo-gateway-default': apollo('apollo-gateway-default', 'default'),
  'apollo-gateway-fetch': apollo('apollo-gateway-fetch', 'fetch'),
  'hive-gateway': {
    name: 'hive-gateway',
    summary: 'Hive Gateway 2 CLI `supergraph`, defaults (1 process)',
    dedup: 'subgraph in-flight dedup on (default); inbound dedup off (default)',
    headers: {},
    unavailable: () => undefined,
    entry: (root) => [resolve(root, 'bench/gateways/hive.ts')],
    env: (ctx) => ({ PORT: String(ctx.port), BENCH_SUPERGRAPH_PATH: ctx.supergraphPath }),
  },
};

/** Env vars that could make a gateway report usage, trace or fetch a schema from outside. */
const OUTBOUND_ENV = /^(HIVE_|APOLLO_KEY$|APOLLO_GRAPH_REF$|APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT$|OTEL_|OPENTELEMETRY|NODE_OPTIONS$)/;

/** The harness's env minus anything that reaches outside, plus the switches that keep it local. */
export function commonGatewayEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) if (!OUTBOUND_ENV.test(key)) env[key] = value;
  env['APOLLO_TELEMETRY_DISABLED'] = 'true';
  env['NODE_ENV'] = 'production';
  return env;
}
