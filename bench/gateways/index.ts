/**
 * The gateways under test and how each is started. Every one is a separate child process on the
 * same supergraph file, port and load; see bench/run.ts for the order and pinning.
 *
 * ── Portico variants: THE table to edit when a feature lands ─────────────────────────────────
 * `env(run)` is added to the common env (PORT, PORTICO_SUPERGRAPH_PATH, PORTICO_SUBGRAPH_URLS,
 * PORTICO_OPS_PORT (a free loopback port), NODE_ENV=production). `headers` go on every
 * benchmark request (e.g. a bearer token once JWT verification is on). Keep any rate limit far
 * above what 50 connections can send (~5,000 req/s here), or the benchmark measures 429s.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PORTICO_NODE_FLAGS } from '../../src/runtime/nodeFlags.ts';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_JWKS_FILE, signDevToken } from '../../subgraphs-mock/idp.ts';

export type PorticoVariantName =
  | 'portico-full'
  | 'portico-full-inbound-dedup'
  | 'portico-lean'
  | 'portico-full-default-gc'
  | 'portico-lean-subgraph-dedup'
  | 'portico-full-apollo-executor'
  | 'portico-lean-apollo-executor';

/** What a variant's env may depend on. */
export interface VariantRun {
  /** Subgraph names of the supergraph under test (demo: product, pricing, …; public: accounts, …). */
  readonly subgraphs: readonly string[];
}

export interface PorticoVariant {
  /** One line for the results table. */
  readonly summary: string;
  /** What deduplicates requests in this variant (shown in the results' dedup column). */
  readonly dedup: string;
  env(run: VariantRun): Record<string, string>;
  /** Headers for every benchmark request; resolved once per harness run. */
  headers(): Promise<Record<string, string>>;
  /** Node flags; default: the ones Portico ships with (src/runtime/nodeFlags.ts). */
  readonly nodeFlags?: readonly string[];
}

/** Lifetime of the benchmark's dev token, s: longer than any run. */
const BENCH_TOKEN_TTL_S = 6 * 3_600;

/**
 * Rate limits the benchmark never reaches, for every tier, so the limiter decides on every
 * request without refusing one. Portico caps a quota's rate at 1,000 units per ms, and limits may
 * be cost-weighted (TestQuery 23,315 units), so the allowance lives in the burst: a day's window
 * holds 8.64e10 units, hours of any workload here.
 */
const BENCH_RATE_LIMITS = ['anonymous', 'free', 'premium'].map((tier) => `${tier}=86400000000/1d`).join(',');

/** The bearer token every request to a `portico-full*` row carries (verified on each request). */
async function benchTokenHeaders(): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await signDevToken({ sub: 'bench', scopes: [], ttlS: BENCH_TOKEN_TTL_S })}` };
}

const PORTICO_FULL_ENV = (run: VariantRun): Record<string, string> => PORTICO_VARIANTS['portico-full'].env(run);

export const PORTICO_VARIANTS: Readonly<Record<PorticoVariantName, PorticoVariant>> = {
  'portico-full': {
    summary: 'every feature on',
    dedup: 'subgraph in-flight dedup on (PORTICO_SUBGRAPH_DEDUP); inbound dedup off — the same as Hive Gateway\'s defaults',
    env: (run) => ({
      PORTICO_HOST: '127.0.0.1',
      // Production's level: one access-log line per request is part of the cost.
      PORTICO_LOG_LEVEL: 'info',
      PORTICO_SUPERGRAPH_WATCH: 'true',
      PORTICO_SUBGRAPH_DEDUP: 'true',
      // Opt-in, off here so the dedup settings match Hive Gateway's defaults; see the
      // portico-full-inbound-dedup variant for what it buys.
      PORTICO_INBOUND_DEDUP: 'false',
      PORTICO_APQ_ENABLED: 'true',
      PORTICO_SUBGRAPH_RETRY: 'true',
      // No load balancer to drain from: stop at once between runs.
      PORTICO_DRAIN_DELAY_MS: '0',
      // Stale-if-error where it makes sense (reviews), as `npm start` does; prices never.
      PORTICO_FALLBACKS: run.subgraphs.filter((name) => name.startsWith('review')).map((name) => `${name}=stale`).join(','),
      // The Redis limiter (and Redis stale store / APQ): the harness starts a private
      // redis-server (or takes BENCH_REDIS_URL); without one, the in-process limiter.
      ...(process.env.BENCH_REDIS_URL ? { PORTICO_REDIS_URL: process.env.BENCH_REDIS_URL } : {}),
      PORTICO_OPS_ENABLED: 'true',
      PORTICO_OPS_HOST: '127.0.0.1',
      // The cost limit stays at its default (enforce, 100,000): TestQuery estimates 23,315.
      // Every request carries a token that is verified (offline JWKS file: nothing leaves the box).
      PORTICO_AUTH_MODE: 'required',
      PORTICO_JWKS_FILE: DEV_JWKS_FILE,
      PORTICO_JWT_ISSUER: DEV_ISSUER,
      PORTICO_JWT_AUDIENCE: DEV_AUDIENCE,
      PORTICO_ALLOW_DEV_KEYS: 'true',
      PORTICO_RATE_LIMIT_ENABLED: 'true',
      PORTICO_RATE_LIMITS: BENCH_RATE_LIMITS,
      // Metrics and status page on the ops listener (PORTICO_OPS_*, above).
    }),
    headers: benchTokenHeaders,
  },
  'portico-full-inbound-dedup': {
    summary: 'every feature on + opt-in inbound dedup of identical client queries',
    dedup: 'inbound dedup on (PORTICO_INBOUND_DEDUP) + subgraph in-flight dedup on',
    env: (run) => ({ ...PORTICO_FULL_ENV(run), PORTICO_INBOUND_DEDUP: 'true' }),
    headers: benchTokenHeaders,
  },
  'portico-full-default-gc': {
    summary: 'every feature on, V8\'s default young generation (what PORTICO_NODE_FLAGS buys)',
    dedup: 'as portico-full',
    env: PORTICO_FULL_ENV,
    headers: benchTokenHeaders,
    nodeFlags: [],
  },
  'portico-lean-subgraph-dedup': {
    summary: 'optional features off, subgraph in-flight dedup on (portico-full\'s dedup settings)',
    dedup: 'subgraph in-flight dedup on (PORTICO_SUBGRAPH_DEDUP); inbound dedup off — as portico-full',
    env: (run) => ({ ...PORTICO_VARIANTS['portico-lean'].env(run), PORTICO_SUBGRAPH_DEDUP: 'true' }),
    headers: async () => ({}),
  },
  'portico-full-apollo-executor': {
    summary: "every feature on, @apollo/gateway's plan executor (PORTICO_EXECUTOR=apollo): the executor before Portico's own",
    dedup: 'as portico-full',
    env: (run) => ({ ...PORTICO_FULL_ENV(run), PORTICO_EXECUTOR: 'apollo' }),
    headers: benchTokenHeaders,
  },
  'portico-lean-apollo-executor': {
    summary: "optional features off, @apollo/gateway's plan executor (PORTICO_EXECUTOR=apollo)",
    dedup: 'as portico-lean',
    env: (run) => ({ ...PORTICO_VARIANTS['portico-lean'].env(run), PORTICO_EXECUTOR: 'apollo' }),
    headers: async () => ({}),
  },
  'portico-lean': {
    summary: 'optional features off',
    dedup: 'none (PORTICO_INBOUND_DEDUP=false, PORTICO_SUBGRAPH_DEDUP=false)',
    env: () => ({
      PORTICO_HOST: '127.0.0.1',
      PORTICO_LOG_LEVEL: 'warn',
      PORTICO_SUPERGRAPH_WATCH: 'false',
      PORTICO_SUBGRAPH_DEDUP: 'false',
      PORTICO_INBOUND_DEDUP: 'false',
      PORTICO_APQ_ENABLED: 'false',
      PORTICO_SUBGRAPH_RETRY: 'false',
      PORTICO_DRAIN_DELAY_MS: '0',
      PORTICO_OPS_ENABLED: 'false',
      // Hardening has no off switch; its defaults refuse none of the benchmark's operations.
      PORTICO_AUTH_MODE: 'optional',
      PORTICO_RATE_LIMIT_ENABLED: 'false',
      // TODO(lead): switch every later optional feature off explicitly.
    }),
    headers: async () => ({}),
  },
};

// ─────────────────────────────────────────────────────────────────────────────────────────────

export type GatewayName =
  | PorticoVariantName
  | 'apollo-gateway-default'
  | 'apollo-gateway-fetch'
  | 'hive-gateway'
  | 'hive-gateway-rust-planner'
  | 'apollo-gateway-tuned-gc'
  | 'noop-proxy';

/** Default run order within a round: baseline first, so it also supplies the golden answers. */
export const GATEWAY_ORDER: readonly GatewayName[] = [
  'apollo-gateway-default',
  'apollo-gateway-fetch',
  'hive-gateway',
  'hive-gateway-rust-planner',
  'portico-lean',
  'portico-full',
  'portico-full-apollo-executor',
  'portico-full-inbound-dedup',
];

/**
 * Also runnable with --only=, but not in a default run: what Portico's Node flags buy
 * (portico-full without them), what they would buy bare @apollo/gateway, and features-off
 * Portico with portico-full's dedup settings.
 */
export const EXTRA_GATEWAYS: readonly GatewayName[] = ['portico-full-default-gc', 'apollo-gateway-tuned-gc', 'portico-lean-subgraph-dedup', 'portico-lean-apollo-executor', 'noop-proxy'];

/** The gateway every req/s ratio is taken against. */
export const BASELINE: GatewayName = 'apollo-gateway-default';

/** What a started gateway needs to know about its run. */
export interface LaunchContext {
  readonly root: string;
  readonly port: number;
  readonly supergraphPath: string;
  /** `name=url,…`, also baked into the supergraph file. */
  readonly subgraphUrlOverrides: string;
  readonly subgraphs: readonly string[];
  /** A free loopback port for a gateway's ops listener (and the no-op proxy's upstream). */
  readonly opsPort: number;
}

export interface GatewaySpec {
  readonly name: GatewayName;
  readonly summary: string;
  readonly dedup: string;
  /** Headers for every request to this gateway; resolved once per harness run. */
  headers(): Promise<Record<string, string>>;
  /** Why it cannot run here, or undefined when it can. */
  unavailable(root: string): string | undefined;
  /** Node arguments after the executable (the preload is added by the harness). */
  entry(root: string): string[];
  /** Env on top of the harness's common env. */
  env(ctx: LaunchContext): Record<string, string>;
  /**
   * Checked once the gateway answers: why it is not running what the row claims (undefined when
   * it is). A gateway that fails it gets no figures.
   */
  verify?(pid: number, output: string): string | undefined;
}

/**
 * Portico's entry: the built JS, as the Docker image runs it (run.ts builds it first), or the
 * TypeScript source through tsx when BENCH_PORTICO_SOURCE=1 (tsx adds ~2-3 % of CPU per request).
 */
function porticoEntry(root: string): string {
  return process.env['BENCH_PORTICO_SOURCE'] === '1' ? resolve(root, 'src/main.ts') : resolve(root, 'dist/src/main.js');
}

/** Which Portico build runs, for the results header. */
export function porticoEntryNote(root: string): string {
  const entry = porticoEntry(root);
  return entry.endsWith('.ts')
    ? `${entry.slice(root.length + 1)} through tsx (BENCH_PORTICO_SOURCE=1)`
    : `${entry.slice(root.length + 1)}, built by \`npm run build\` at the start of the run, as the Docker image runs it`;
}

/** True when the selected gateways include a Portico that runs from dist/ (the harness builds it). */
export function needsPorticoBuild(names: readonly GatewayName[]): boolean {
  return process.env['BENCH_PORTICO_SOURCE'] !== '1' && names.some((n) => n.startsWith('portico'));
}

/**
 * `BENCH_CPU_PROF_DIR=<dir>`: every Portico row writes a V8 CPU profile of its whole process
 * life (warm-up included) into `<dir>/<variant>/`, summarised by `npm run bench:profile`.
 * Profiling costs CPU itself: figures of a profiled run are not comparable with others.
 */
function cpuProfileFlags(name: PorticoVariantName): string[] {
  const dir = process.env['BENCH_CPU_PROF_DIR'];
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(dir, name)}`] : [];
}

function portico(name: PorticoVariantName): GatewaySpec {
  const variant = PORTICO_VARIANTS[name];
  return {
    name,
    summary: `Portico, ${variant.summary}`,
    dedup: variant.dedup,
    headers: variant.headers,
    unavailable: (root) => (existsSync(porticoEntry(root)) ? undefined : `${porticoEntry(root)} does not exist: Portico rows skipped`),
    entry: (root) => [...(variant.nodeFlags ?? PORTICO_NODE_FLAGS), ...cpuProfileFlags(name), porticoEntry(root)],
    env: (ctx) => ({
      PORT: String(ctx.port),
      PORTICO_SUPERGRAPH_PATH: ctx.supergraphPath,
      PORTICO_SUBGRAPH_URLS: ctx.subgraphUrlOverrides,
      PORTICO_OPS_PORT: String(ctx.opsPort),
      ...variant.env({ subgraphs: ctx.subgraphs }),
    }),
  };
}

function apollo(name: 'apollo-gateway-default' | 'apollo-gateway-fetch' | 'apollo-gateway-tuned-gc', fetcher: 'default' | 'fetch'): GatewaySpec {
  const tuned = name === 'apollo-gateway-tuned-gc';
  return {
    name,
    summary:
      (fetcher === 'default'
        ? 'bare @apollo/gateway + @apollo/server standalone, default fetcher (make-fetch-happen)'
        : 'bare @apollo/gateway + @apollo/server standalone, fetcher: globalThis.fetch (undici)') +
      (tuned ? `, with Portico's Node flags (${PORTICO_NODE_FLAGS.join(' ')})` : ''),
    dedup: 'none',
    headers: async () => ({}),
    unavailable: () => undefined,
    entry: (root) => [...(tuned ? PORTICO_NODE_FLAGS : []), resolve(root, 'bench/gateways/apollo.ts')],
    env: (ctx) => ({ PORT: String(ctx.port), BENCH_SUPERGRAPH_PATH: ctx.supergraphPath, BENCH_APOLLO_FETCHER: fetcher }),
  };
}

export const GATEWAYS: Readonly<Record<GatewayName, GatewaySpec>> = {
  'portico-full': portico('portico-full'),
  'portico-full-inbound-dedup': portico('portico-full-inbound-dedup'),
  'portico-lean': portico('portico-lean'),
  'portico-full-default-gc': portico('portico-full-default-gc'),
  'portico-lean-subgraph-dedup': portico('portico-lean-subgraph-dedup'),
  'portico-full-apollo-executor': portico('portico-full-apollo-executor'),
  'portico-lean-apollo-executor': portico('portico-lean-apollo-executor'),
  'apollo-gateway-tuned-gc': apollo('apollo-gateway-tuned-gc', 'default'),
  'apollo-gateway-default': apollo('apollo-gateway-default', 'default'),
  'apollo-gateway-fetch': apollo('apollo-gateway-fetch', 'fetch'),
  'hive-gateway': {
    name: 'hive-gateway',
    summary: 'Hive Gateway 2 CLI `supergraph`, defaults (1 process)',
    dedup: 'subgraph in-flight dedup on (default); inbound dedup off (default)',
    headers: async () => ({}),
    unavailable: () => undefined,
    entry: (root) => [resolve(root, 'bench/gateways/hive.ts')],
    env: (ctx) => ({ PORT: String(ctx.port), BENCH_SUPERGRAPH_PATH: ctx.supergraphPath }),
  },
  'noop-proxy': {
    name: 'noop-proxy',
    summary: 'no-op proxy: the same request and answer bytes through Node http + one undici exchange, no GraphQL work (upstream on core 0, not measured: answers replayed from memory, each asked of bare @apollo/gateway once) — the floor of a Node gateway here',
    dedup: 'none',
    headers: async () => ({}),
    unavailable: () => undefined,
    entry: (root) => [resolve(root, 'bench/gateways/noopProxy.ts')],
    env: (ctx) => ({ PORT: String(ctx.port), BENCH_SUPERGRAPH_PATH: ctx.supergraphPath, BENCH_UPSTREAM_PORT: String(ctx.opsPort) }),
  },
  'hive-gateway-rust-planner': {
    name: 'hive-gateway-rust-planner',
    summary: "Hive Gateway 2 CLI `supergraph --hive-router-runtime`: The Guild's Rust query planner (@graphql-hive/router-runtime 1.4.23, native addon) and its executor (1 process)",
    dedup: 'subgraph in-flight dedup on (default); inbound dedup off (default)',
    headers: async () => ({}),
    unavailable: (root) =>
      existsSync(resolve(root, 'node_modules/@graphql-hive/router-runtime/package.json')) ? undefined : '@graphql-hive/router-runtime is not installed (npm ci)',
    entry: (root) => [resolve(root, 'bench/gateways/hive.ts')],
    env: (ctx) => ({ PORT: String(ctx.port), BENCH_SUPERGRAPH_PATH: ctx.supergraphPath, BENCH_HIVE_ROUTER_RUNTIME: '1' }),
    verify: (pid, output) => {
      if (/Could not load the @graphql-hive\/router-runtime/.test(output)) return 'Hive fell back to its default runtime: @graphql-hive/router-runtime did not load';
      const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
      return /hive_router_query_planner\.[\w-]+\.node/.test(maps) ? undefined : "the Rust planner's native addon (hive_router_query_planner.*.node) is not loaded in the gateway process";
    },
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
