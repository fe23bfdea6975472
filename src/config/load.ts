import { DEFAULT_TIER_CLAIM, type TokenVerifierOptions } from '../auth/index.ts';
import { DEFAULT_DEV_CORS_ORIGINS } from '../cors/origins.ts';
import { crossProblems } from './checks.ts';
import { DEFAULT_SUPERGRAPH_PATH, envSchema, type Env } from './schema.ts';
import { DEFAULT_CANARY_PERCENT } from '../controlPlane/canary.ts';
import type { Config } from './types.ts';
import { DEFAULT_OTEL_SAMPLE_RATIO, DEFAULT_OTLP_TRACES_ENDPOINT, DEFAULT_PROBES_FILE } from '../probes/defaults.ts';

/**
 * The one reader of `process.env`. Every setting Portico has is declared in `schema.ts`; here it is
 * validated whole (all problems reported together, each naming its variable and what is allowed),
 * defaulted, and frozen. Nothing else in `src/` reads the environment.
 */

/** Thrown when the environment is invalid; `problems` has one line per bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the environment. Throws {@link ConfigError} listing every problem.
 * @param env usually `process.env`; tests pass their own object.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '?');
      return `${key}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  const isProduction = e.NODE_ENV === 'production';
  const verifier = verifierOptionsFrom(e);
  const problems = crossProblems(e, verifier);
  if (problems.length > 0) throw new ConfigError(problems);
  const introspection = e.PORTICO_INTROSPECTION === 'auto' ? !isProduction : e.PORTICO_INTROSPECTION === 'on';
  const config: Config = {
    nodeEnv: e.NODE_ENV,
    isProduction,
    server: {
      host: e.PORTICO_HOST ?? '0.0.0.0',
      port: e.PORT,
      bodyLimitBytes: e.PORTICO_BODY_LIMIT_BYTES,
      maxHeaderBytes: e.PORTICO_MAX_HEADER_BYTES,
      headersTimeoutMs: e.PORTICO_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.PORTICO_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.PORTICO_KEEP_ALIVE_TIMEOUT_MS,
      corsOrigins: e.PORTICO_CORS_ORIGINS ?? (isProduction ? [] : DEFAULT_DEV_CORS_ORIGINS),
      corsCredentials: e.PORTICO_CORS_CREDENTIALS,
    },
    supergraph: {
      path: e.PORTICO_SUPERGRAPH_PATH ?? DEFAULT_SUPERGRAPH_PATH,
      watch: e.PORTICO_SUPERGRAPH_WATCH,
      planCacheMb: e.PORTICO_QUERY_PLAN_CACHE_MB,
    },
    subgraphs: {
      urlOverrides: e.PORTICO_SUBGRAPH_URLS,
      timeoutMs: e.PORTICO_SUBGRAPH_TIMEOUT_MS,
      timeouts: Object.fromEntries(Object.entries(e.PORTICO_SUBGRAPH_TIMEOUTS).map(([k, v]) => [k, Number(v)])),
      fallbacks: e.PORTICO_FALLBACKS as Record<string, 'stale' | 'null'>,
      staleTtlMs: e.PORTICO_STALE_TTL_MS,
      requestDeadlineMs: e.PORTICO_REQUEST_DEADLINE_MS,
      maxInFlight: e.PORTICO_SUBGRAPH_MAX_INFLIGHT,
      dedup: e.PORTICO_SUBGRAPH_DEDUP,
      inboundDedup: e.PORTICO_INBOUND_DEDUP,
      retry: e.PORTICO_SUBGRAPH_RETRY,
      maxResponseBytes: e.PORTICO_SUBGRAPH_MAX_RESPONSE_BYTES,
      breaker: {
        windowMs: e.PORTICO_BREAKER_WINDOW_MS,
        volumeThreshold: e.PORTICO_BREAKER_VOLUME_THRESHOLD,
        errorThresholdPercent: e.PORTICO_BREAKER_ERROR_PERCENT,
        resetTimeoutMs: e.PORTICO_BREAKER_RESET_MS,
        slowCallMs: e.PORTICO_BREAKER_SLOW_CALL_MS,
        slowCallPercent: e.PORTICO_BREAKER_SLOW_CALL_PERCENT,
      },
    },
    log: { level: e.PORTICO_LOG_LEVEL },
    cache: {
      enabled: e.PORTICO_CACHE_ENABLED,
      ttls: Object.fromEntries(Object.entries(e.PORTICO_CACHE_TTLS).map(([k, v]) => [k, Number(v)])),
      swrS: e.PORTICO_CACHE_SWR_S,
      staleIfErrorS: e.PORTICO_CACHE_STALE_IF_ERROR_S,
      l1MaxEntries: e.PORTICO_CACHE_L1_MAX_ENTRIES,
      l1TtlMs: e.PORTICO_CACHE_L1_TTL_MS,
      responseMaxEntries: e.PORTICO_CACHE_RESPONSE_MAX_ENTRIES,
    },
    ops: {
      enabled: e.PORTICO_OPS_ENABLED,
      host: e.PORTICO_OPS_HOST ?? '127.0.0.1',
      port: e.PORTICO_OPS_PORT,
      adminToken: e.PORTICO_ADMIN_TOKEN,
    },
    graphql: {
      introspection,
      landingPage: isProduction ? 'production' : 'sandbox',
    },
    apolloTelemetry: e.PORTICO_APOLLO_TELEMETRY,
    authorization: { mode: e.PORTICO_AUTHZ_MODE },
    apq: { enabled: e.PORTICO_APQ_ENABLED, ttlS: e.PORTICO_APQ_TTL_S },
    shutdown: { drainDelayMs: e.PORTICO_DRAIN_DELAY_MS, graceMs: e.PORTICO_SHUTDOWN_GRACE_MS },
    redis: { url: e.PORTICO_REDIS_URL, commandTimeoutMs: e.PORTICO_REDIS_COMMAND_TIMEOUT_MS },
    rateLimit: {
      enabled: e.PORTICO_RATE_LIMIT_ENABLED,
      policies: e.PORTICO_RATE_LIMITS.requests,
      failMode: e.PORTICO_RATE_LIMIT_FAIL_MODE,
      expectedInstances: e.PORTICO_RATE_LIMIT_INSTANCES,
      trustedHops: e.PORTICO_TRUSTED_PROXY_HOPS,
      apiKeyHeader: e.PORTICO_API_KEY_HEADER ?? 'x-api-key',
      apiKeys: Object.fromEntries(Object.entries(e.PORTICO_API_KEYS).map(([hash, tier]) => [hash.toLowerCase(), tier])),
      costPolicies: e.PORTICO_RATE_LIMITS.cost,
      maxWaitMs: e.PORTICO_RATE_LIMIT_MAX_WAIT,
      queueSize: e.PORTICO_RATE_LIMIT_QUEUE_SIZE,
      minCost: e.PORTICO_RATE_LIMIT_MIN_COST,
    },
    overload: {
      enabled: e.PORTICO_OVERLOAD_SHEDDING,
      standingDelayMs: e.PORTICO_OVERLOAD_STANDING_DELAY_MS,
      eventLoopDelayMs: e.PORTICO_OVERLOAD_EVENT_LOOP_DELAY_MS,
      maxInFlight: e.PORTICO_OVERLOAD_MAX_IN_FLIGHT,
      tierOrder: e.PORTICO_OVERLOAD_TIER_ORDER,
    },
    limits: {
      maxDocumentBytes: e.PORTICO_MAX_QUERY_BYTES,
      maxTokens: e.PORTICO_MAX_TOKENS,
      maxDepth: e.PORTICO_MAX_DEPTH,
      maxAliases: e.PORTICO_MAX_ALIASES,
      maxRootFields: e.PORTICO_MAX_ROOT_FIELDS,
      maxCost: e.PORTICO_MAX_COST,
      costMode: e.PORTICO_COST_MODE,
      defaultListSize: e.PORTICO_COST_LIST_SIZE,
    },
    trustedDocuments: {
      mode: e.PORTICO_TRUSTED_DOCUMENTS_MODE,
      file: e.PORTICO_TRUSTED_DOCUMENTS_FILE,
      url: e.PORTICO_TRUSTED_DOCUMENTS_URL,
      pollIntervalMs: e.PORTICO_TRUSTED_DOCUMENTS_POLL_MS,
      bypassScope: e.PORTICO_TRUSTED_DOCUMENTS_BYPASS_SCOPE,
    },
    auth: {
      verifier,
      mode: e.PORTICO_AUTH_MODE,
      tierClaim: e.PORTICO_JWT_TIER_CLAIM ?? DEFAULT_TIER_CLAIM,
      identityHeaders: e.PORTICO_IDENTITY_HEADERS,
      introspectionScope: e.PORTICO_INTROSPECTION_SCOPE,
    },
    controlPlane: controlPlaneFrom(e),
    tracing: {
      enabled: e.PORTICO_OTEL_ENABLED,
      // The standard variable names a whole deployment's sampling; ours wins for the gateway.
      sampleRatio: e.PORTICO_OTEL_SAMPLE_RATIO ?? e.OTEL_TRACES_SAMPLER_ARG ?? DEFAULT_OTEL_SAMPLE_RATIO,
      keepFailed: e.PORTICO_OTEL_KEEP_FAILED,
      // Per the OTLP exporter spec: the signal-specific URL is used as is, the generic one gets /v1/traces.
      endpoint: e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT ? `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : DEFAULT_OTLP_TRACES_ENDPOINT),
      headers: e.OTEL_EXPORTER_OTLP_HEADERS,
      serviceName: e.OTEL_SERVICE_NAME ?? 'portico',
    },
    probes: {
      enabled: e.PORTICO_PROBES_ENABLED,
      file: e.PORTICO_PROBES_FILE ?? DEFAULT_PROBES_FILE,
      // The default file is the demo's; a deployment without it simply has no probes.
      fileIsDefault: e.PORTICO_PROBES_FILE === undefined,
      intervalMs: e.PORTICO_PROBE_INTERVAL_MS,
      timeoutMs: e.PORTICO_PROBE_TIMEOUT_MS,
      token: e.PORTICO_PROBE_TOKEN,
    },
    status: { sampleMs: e.PORTICO_STATUS_SAMPLE_MS },
    execution: { executor: e.PORTICO_EXECUTOR },
  };
  return deepFreeze(config);
}

/** Verifier options from the environment; `undefined` when no key source is set (auth off). */
function verifierOptionsFrom(e: Env): TokenVerifierOptions | undefined {
  if (e.PORTICO_JWKS_URL === undefined && e.PORTICO_JWKS_FILE === undefined && e.PORTICO_JWT_HS_SECRET === undefined) return undefined;
  const isProduction = e.NODE_ENV === 'production';
  const some = (items: readonly string[]) => (items.length > 0 ? items : undefined);
  return {
    jwksUrl: e.PORTICO_JWKS_URL,
    keyFile: e.PORTICO_JWKS_FILE,
    hsSecret: e.PORTICO_JWT_HS_SECRET,
    issuer: some(e.PORTICO_JWT_ISSUER),
    audience: some(e.PORTICO_JWT_AUDIENCE),
    algorithms: some(e.PORTICO_JWT_ALGORITHMS),
    clockToleranceS: e.PORTICO_JWT_CLOCK_TOLERANCE_S,
    maxTokenBytes: e.PORTICO_JWT_MAX_BYTES,
    jwksTimeoutMs: e.PORTICO_JWKS_TIMEOUT_MS,
    jwksCooldownMs: e.PORTICO_JWKS_COOLDOWN_MS,
    jwksCacheMaxAgeMs: e.PORTICO_JWKS_CACHE_MAX_AGE_MS,
    jwksMaxStaleMs: e.PORTICO_JWKS_MAX_STALE_MS,
    tierClaim: e.PORTICO_JWT_TIER_CLAIM,
    verifyCacheTtlMs: e.PORTICO_JWT_VERIFY_CACHE_TTL_MS,
    // Production never trusts development keys or tokens, wherever they come from (see
    // src/auth/devKeys.ts), unless explicitly allowed for local production-mode testing.
    refuseDevKeys: isProduction && !e.PORTICO_ALLOW_DEV_KEYS,
  };
}

function controlPlaneFrom(e: Env): Config['controlPlane'] {
  const remote = e.PORTICO_SUPERGRAPH_URLS.length > 0 || e.PORTICO_SUPERGRAPH_PUSH;
  return {
    fileSource: !remote || e.PORTICO_SUPERGRAPH_PATH !== undefined,
    urls: e.PORTICO_SUPERGRAPH_URLS,
    pollMs: e.PORTICO_SUPERGRAPH_POLL_MS,
    fetchTimeoutMs: e.PORTICO_SUPERGRAPH_FETCH_TIMEOUT_MS,
    maxBytes: e.PORTICO_SUPERGRAPH_MAX_BYTES,
    publicKeyFile: e.PORTICO_SUPERGRAPH_PUBLIC_KEY_FILE,
    push: e.PORTICO_SUPERGRAPH_PUSH,
    cacheDir: e.PORTICO_SUPERGRAPH_CACHE_DIR,
    canary: {
      // A supergraph an operator publishes to a fleet goes out by canary; a file edited by hand
      // (or a ConfigMap) swaps in at once, as it always has.
      percent: e.PORTICO_SUPERGRAPH_CANARY_PERCENT ?? (remote ? DEFAULT_CANARY_PERCENT : 0),
      minRequests: e.PORTICO_SUPERGRAPH_CANARY_MIN_REQUESTS,
      windowMs: e.PORTICO_SUPERGRAPH_CANARY_WINDOW_MS,
      maxErrorDeltaPercent: e.PORTICO_SUPERGRAPH_CANARY_MAX_ERROR_DELTA_PERCENT,
      maxP99IncreasePercent: e.PORTICO_SUPERGRAPH_CANARY_MAX_P99_INCREASE_PERCENT,
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
