import { z } from 'zod';
import {
  checkIdentityHeaderNames,
  createFileKeySource,
  DEFAULT_CLOCK_TOLERANCE_S,
  DEFAULT_IDENTITY_HEADERS,
  DEFAULT_JWKS_CACHE_MAX_AGE_MS,
  DEFAULT_JWKS_COOLDOWN_MS,
  DEFAULT_JWKS_MAX_STALE_MS,
  DEFAULT_JWKS_TIMEOUT_MS,
  DEFAULT_MAX_TOKEN_BYTES,
  DEFAULT_TIER_CLAIM,
  DEFAULT_VERIFY_CACHE_TTL_MS,
  DEV_ISSUER,
  DEV_KEYS_REFUSED,
  LOOPBACK_HOSTS,
  resolveTokenVerifierOptions,
  TokenVerifierConfigError,
  type AuthMode,
  type IdentityHeaderNames,
  type TokenVerifierOptions,
} from '../auth/index.ts';
import { checkCorsOrigin, DEFAULT_DEV_CORS_ORIGINS } from '../http/cors.ts';
import {
  DEFAULT_BREAKER_ERROR_PERCENT,
  DEFAULT_BREAKER_RESET_MS,
  DEFAULT_BREAKER_VOLUME_THRESHOLD,
  DEFAULT_BREAKER_WINDOW_MS,
  DEFAULT_BREAKER_SLOW_CALL_PERCENT,
} from '../resilience/breakers.ts';
import { DEFAULT_QUERY_PLAN_CACHE_MB } from '../planning/planCache.ts';
import { DEFAULT_STALE_TTL_MS } from '../degradation/staleStore.ts';
import { DEFAULT_EXPECTED_INSTANCES } from '../rateLimit/limiter.ts';
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from '../rateLimit/redisStore.ts';
import {
  DEFAULT_COST_MODE,
  DEFAULT_LIST_SIZE,
  DEFAULT_MAX_ALIASES,
  DEFAULT_MAX_COST,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_DOCUMENT_BYTES,
  DEFAULT_MAX_ROOT_FIELDS,
  DEFAULT_MAX_TOKENS,
  type CostMode,
} from '../hardening/index.ts';
import { DEFAULT_TRUSTED_DOCUMENTS_POLL_MS, type TrustedDocumentsMode } from '../trustedDocuments/index.ts';
import { bool, checkHttpUrl, int, list, oneOf, optionalInt, pairs, ratePolicies, text, url } from './env.ts';

/**
 * The one reader of `process.env`. Every setting Portico has is declared here, validated whole
 * (all problems reported together, each naming its variable and what is allowed), defaulted,
 * and frozen. Nothing else in `src/` reads the environment.
 */

// Defaults with a reason each. Units are in the names.
/** Conventional gateway port (README, HAProxy config, k8s manifests all assume it). */
export const DEFAULT_PORT = 4000;
/** Ops listener; never routed through the public load balancer. */
export const DEFAULT_OPS_PORT = 8088;
/** 1 MiB: the largest legitimate operation + variables we have seen is ~100 KiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 1_048_576;
/** 16 KiB headers: room for a large JWT and cookies; HAProxy's tune.bufsize matches it. */
export const DEFAULT_MAX_HEADER_BYTES = 16_384;
/** A client must send its headers within 10 s, or it is holding a socket hostage. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Whole request (headers + body) within 30 s; well above the 5 s execution deadline. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Longer than HAProxy's `timeout http-keep-alive` (5 s) so the LB always closes first. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** p99 of a healthy subgraph is ~50 ms here; 40x headroom before we give up on it. */
export const DEFAULT_SUBGRAPH_TIMEOUT_MS = 2_000;
/**
 * Subgraph answers up to 16 MiB: a product page is a few KB and a large list page well under
 * 1 MB, while a runaway answer (50 MB, or a body that never ends) is cut off before it costs the
 * gateway more than this in memory per call.
 */
export const DEFAULT_SUBGRAPH_MAX_RESPONSE_BYTES = 16 * 1_048_576;
/** A client request may not take longer than this end to end, whatever the plan does. */
export const DEFAULT_REQUEST_DEADLINE_MS = 5_000;
/** Persisted queries live a day: clients re-register on a miss, so this only bounds memory. */
export const DEFAULT_APQ_TTL_S = 86_400;
/**
 * Keep serving this long after SIGTERM with readiness at 503, so the load balancer notices:
 * HAProxy checks every 1 s and needs 2 failures (deploy/haproxy/haproxy.cfg); k8s preStop matches.
 */
export const DEFAULT_DRAIN_DELAY_MS = 5_000;
/** In-flight requests get this long to finish after we stop accepting; above the 5 s request deadline. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
/** 256 concurrent calls per subgraph: ~5x the in-flight count at our benchmark load (50 clients x 4 fetches / 4 subgraphs). */
export const DEFAULT_SUBGRAPH_MAX_INFLIGHT = 256;

const NODE_ENVS = ['development', 'production', 'test'] as const;
const AUTH_MODES = ['optional', 'required'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const envSchema = z.object({
  NODE_ENV: oneOf(NODE_ENVS, 'development'),
  PORT: int(DEFAULT_PORT, 0, 65_535),
  PORTICO_HOST: text(),
  PORTICO_SUPERGRAPH_PATH: text(),
  PORTICO_SUPERGRAPH_WATCH: bool(true),
  PORTICO_QUERY_PLAN_CACHE_MB: int(DEFAULT_QUERY_PLAN_CACHE_MB, 1, 4_096),
  PORTICO_SUBGRAPH_URLS: pairs(checkHttpUrl),
  PORTICO_LOG_LEVEL: oneOf(LOG_LEVELS, 'info'),
  PORTICO_OPS_PORT: int(DEFAULT_OPS_PORT, 0, 65_535),
  PORTICO_OPS_HOST: text(),
  PORTICO_OPS_ENABLED: bool(true),
  PORTICO_ADMIN_TOKEN: text(),
  PORTICO_INTROSPECTION: oneOf(['auto', 'on', 'off'] as const, 'auto'),
  PORTICO_APOLLO_TELEMETRY: bool(false),
  PORTICO_BODY_LIMIT_BYTES: int(DEFAULT_BODY_LIMIT_BYTES, 1_024, 100 * 1_048_576),
  PORTICO_MAX_HEADER_BYTES: int(DEFAULT_MAX_HEADER_BYTES, 1_024, 1_048_576),
  PORTICO_HEADERS_TIMEOUT_MS: int(DEFAULT_HEADERS_TIMEOUT_MS, 100, 600_000),
  PORTICO_REQUEST_TIMEOUT_MS: int(DEFAULT_REQUEST_TIMEOUT_MS, 100, 600_000),
  PORTICO_KEEP_ALIVE_TIMEOUT_MS: int(DEFAULT_KEEP_ALIVE_TIMEOUT_MS, 100, 600_000),
  PORTICO_SUBGRAPH_TIMEOUT_MS: int(DEFAULT_SUBGRAPH_TIMEOUT_MS, 1, 600_000),
  PORTICO_REQUEST_DEADLINE_MS: int(DEFAULT_REQUEST_DEADLINE_MS, 1, 600_000),
  PORTICO_CORS_ORIGINS: corsOrigins(),
  PORTICO_CORS_CREDENTIALS: bool(false),
  PORTICO_SUBGRAPH_TIMEOUTS: pairs((v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 600_000 ? undefined : 'timeout must be an integer from 1 to 600000 (ms)')),
  PORTICO_FALLBACKS: pairs((v) => (v === 'stale' || v === 'null' ? undefined : 'fallback must be stale or null')),
  PORTICO_STALE_TTL_MS: int(DEFAULT_STALE_TTL_MS, 1_000, 86_400_000),
  PORTICO_BREAKER_WINDOW_MS: int(DEFAULT_BREAKER_WINDOW_MS, 100, 600_000),
  PORTICO_BREAKER_VOLUME_THRESHOLD: int(DEFAULT_BREAKER_VOLUME_THRESHOLD, 1, 1_000_000),
  PORTICO_BREAKER_ERROR_PERCENT: int(DEFAULT_BREAKER_ERROR_PERCENT, 1, 100),
  PORTICO_BREAKER_RESET_MS: int(DEFAULT_BREAKER_RESET_MS, 100, 3_600_000),
  PORTICO_BREAKER_SLOW_CALL_MS: optionalInt(0, 600_000),
  PORTICO_BREAKER_SLOW_CALL_PERCENT: int(DEFAULT_BREAKER_SLOW_CALL_PERCENT, 1, 100),
  PORTICO_SUBGRAPH_MAX_RESPONSE_BYTES: int(DEFAULT_SUBGRAPH_MAX_RESPONSE_BYTES, 1_024, 1_073_741_824),
  PORTICO_SUBGRAPH_MAX_INFLIGHT: int(DEFAULT_SUBGRAPH_MAX_INFLIGHT, 1, 100_000),
  PORTICO_SUBGRAPH_DEDUP: bool(true),
  PORTICO_SUBGRAPH_RETRY: bool(true),
  PORTICO_AUTHZ_MODE: oneOf(['filter', 'reject'] as const, 'filter'),
  PORTICO_APQ_ENABLED: bool(true),
  PORTICO_INBOUND_DEDUP: bool(false),
  PORTICO_APQ_TTL_S: int(DEFAULT_APQ_TTL_S, 1, 30 * 86_400),
  PORTICO_DRAIN_DELAY_MS: int(DEFAULT_DRAIN_DELAY_MS, 0, 600_000),
  PORTICO_SHUTDOWN_GRACE_MS: int(DEFAULT_SHUTDOWN_GRACE_MS, 100, 600_000),
  PORTICO_REDIS_URL: url(['redis:', 'rediss:']),
  PORTICO_REDIS_COMMAND_TIMEOUT_MS: int(DEFAULT_REDIS_COMMAND_TIMEOUT_MS, 1, 10_000),
  PORTICO_RATE_LIMIT_ENABLED: bool(true),
  PORTICO_RATE_LIMITS: ratePolicies(),
  PORTICO_RATE_LIMIT_FAIL_MODE: oneOf(['open', 'closed'] as const, 'open'),
  PORTICO_RATE_LIMIT_INSTANCES: int(DEFAULT_EXPECTED_INSTANCES, 1, 10_000),
  PORTICO_TRUSTED_PROXY_HOPS: int(0, 0, 10),
  PORTICO_API_KEY_HEADER: text(),
  PORTICO_API_KEYS: pairs((v) => (/^[A-Za-z0-9_-]{1,64}$/.test(v) ? undefined : 'tier must be a word')),
  PORTICO_MAX_QUERY_BYTES: int(DEFAULT_MAX_DOCUMENT_BYTES, 64, 10 * 1_048_576),
  PORTICO_MAX_TOKENS: int(DEFAULT_MAX_TOKENS, 1, 1_000_000),
  PORTICO_MAX_DEPTH: int(DEFAULT_MAX_DEPTH, 1, 1_000),
  PORTICO_MAX_ALIASES: int(DEFAULT_MAX_ALIASES, 0, 100_000),
  PORTICO_MAX_ROOT_FIELDS: int(DEFAULT_MAX_ROOT_FIELDS, 1, 10_000),
  PORTICO_MAX_COST: int(DEFAULT_MAX_COST, 1, 1_000_000_000),
  PORTICO_COST_MODE: oneOf(['measure', 'enforce'] as const, DEFAULT_COST_MODE),
  PORTICO_COST_LIST_SIZE: int(DEFAULT_LIST_SIZE, 0, 100_000),
  PORTICO_TRUSTED_DOCUMENTS_MODE: oneOf(['off', 'log', 'enforce'] as const, 'off'),
  PORTICO_TRUSTED_DOCUMENTS_FILE: text(),
  PORTICO_TRUSTED_DOCUMENTS_URL: url(),
  PORTICO_TRUSTED_DOCUMENTS_POLL_MS: int(DEFAULT_TRUSTED_DOCUMENTS_POLL_MS, 1_000, 86_400_000),
  PORTICO_TRUSTED_DOCUMENTS_BYPASS_SCOPE: text(),
  // Authentication. Key sources and claim rules are checked together by the token verifier's own
  // validation (see authProblems); here only each value's form and range.
  PORTICO_JWKS_URL: text(),
  PORTICO_JWKS_FILE: text(),
  PORTICO_JWT_HS_SECRET: text(),
  PORTICO_JWT_ISSUER: list([]),
  PORTICO_JWT_AUDIENCE: list([]),
  PORTICO_JWT_ALGORITHMS: list([]),
  PORTICO_JWT_CLOCK_TOLERANCE_S: int(DEFAULT_CLOCK_TOLERANCE_S, 0, 3_600),
  PORTICO_JWT_MAX_BYTES: int(DEFAULT_MAX_TOKEN_BYTES, 256, 1_048_576),
  PORTICO_JWKS_TIMEOUT_MS: int(DEFAULT_JWKS_TIMEOUT_MS, 1, 60_000),
  PORTICO_JWKS_COOLDOWN_MS: int(DEFAULT_JWKS_COOLDOWN_MS, 0, 3_600_000),
  PORTICO_JWKS_CACHE_MAX_AGE_MS: int(DEFAULT_JWKS_CACHE_MAX_AGE_MS, 0, 86_400_000),
  PORTICO_JWKS_MAX_STALE_MS: int(DEFAULT_JWKS_MAX_STALE_MS, 0, 30 * 86_400_000),
  PORTICO_JWT_TIER_CLAIM: text(),
  PORTICO_JWT_VERIFY_CACHE_TTL_MS: int(DEFAULT_VERIFY_CACHE_TTL_MS, 0, 3_600_000),
  PORTICO_AUTH_MODE: oneOf(AUTH_MODES, 'optional'),
  PORTICO_IDENTITY_HEADERS: identityHeaderNames(),
  PORTICO_INTROSPECTION_SCOPE: text(),
  PORTICO_ALLOW_DEV_KEYS: bool(false),
});

export type NodeEnv = (typeof NODE_ENVS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly nodeEnv: NodeEnv;
  /** True outside production: richer errors, Sandbox, introspection. */
  readonly isProduction: boolean;
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    readonly maxHeaderBytes: number;
    readonly headersTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
    /**
     * Browser origins granted CORS (exact, `scheme://host:*`, or `*`). Unset: localhost and Apollo
     * Studio/Sandbox outside production, none in production; `none`: none anywhere.
     */
    readonly corsOrigins: readonly string[];
    /** `Access-Control-Allow-Credentials: true` for granted origins. */
    readonly corsCredentials: boolean;
  };
  readonly supergraph: {
    /** Absolute or cwd-relative path of the supergraph SDL file. */
    readonly path: string;
    /** Watch the file and hot-reload it (last known good on failure). */
    readonly watch: boolean;
    /** Query-plan cache budget, MiB (plans measured as JSON). */
    readonly planCacheMb: number;
  };
  readonly subgraphs: {
    /** Subgraph URL overrides by subgraph name; others come from the supergraph. */
    readonly urlOverrides: Readonly<Record<string, string>>;
    /** Default per-call timeout, ms. */
    readonly timeoutMs: number;
    /** Timeouts by subgraph name or breaker key (`pricing`, `review:Product`), ms. */
    readonly timeouts: Readonly<Record<string, number>>;
    /** Fallback by subgraph name or breaker key: `stale` serves last good values. */
    readonly fallbacks: Readonly<Record<string, 'stale' | 'null'>>;
    readonly staleTtlMs: number;
    readonly requestDeadlineMs: number;
    readonly maxInFlight: number;
    readonly dedup: boolean;
    /** Share one execution between identical concurrent client queries (opt-in). */
    readonly inboundDedup: boolean;
    readonly retry: boolean;
    /** Subgraph answers larger than this are cut off and count as failures, bytes. */
    readonly maxResponseBytes: number;
    readonly breaker: {
      readonly windowMs: number;
      readonly volumeThreshold: number;
      readonly errorThresholdPercent: number;
      readonly resetTimeoutMs: number;
      /** Fixed slow-call threshold, ms; undefined: half of each key's timeout; 0: slow calls not tracked. */
      readonly slowCallMs: number | undefined;
      readonly slowCallPercent: number;
    };
  };
  readonly log: { readonly level: LogLevel };
  readonly ops: {
    readonly enabled: boolean;
    readonly host: string;
    readonly port: number;
    readonly adminToken: string | undefined;
  };
  readonly graphql: {
    readonly introspection: boolean;
    readonly landingPage: 'sandbox' | 'production';
  };
  /** Apollo's own usage reporting / OpenTelemetry probes: off unless explicitly opted in. */
  readonly apolloTelemetry: boolean;
  /** Redis for shared state (rate limits, APQ, stale values); absent = embedded in-memory. */
  readonly redis: { readonly url: string | undefined; readonly commandTimeoutMs: number };
  readonly rateLimit: {
    readonly enabled: boolean;
    /** Tier quotas overriding the defaults (anonymous 60/min, free 500/day, premium 10,000/day). */
    readonly policies: Readonly<Record<string, { limit: number; windowMs: number }>>;
    readonly failMode: 'open' | 'closed';
    readonly expectedInstances: number;
    readonly trustedHops: number;
    readonly apiKeyHeader: string;
    /** sha256 hex of an API key → tier. */
    readonly apiKeys: Readonly<Record<string, string>>;
  };
  /** Automatic persisted queries (shared through Redis when configured). */
  readonly apq: { readonly enabled: boolean; readonly ttlS: number };
  /** Graceful shutdown on SIGTERM. */
  readonly shutdown: { readonly drainDelayMs: number; readonly graceMs: number };
  /** Field authorization (`@authenticated`, `@requiresScopes`, `@policy`). */
  readonly authorization: { readonly mode: 'filter' | 'reject' };
  /** Query hardening limits, checked before planning. */
  readonly limits: {
    readonly maxDocumentBytes: number;
    readonly maxTokens: number;
    readonly maxDepth: number;
    readonly maxAliases: number;
    readonly maxRootFields: number;
    readonly maxCost: number;
    /** `enforce`: refuse above `maxCost`; `measure`: record only. */
    readonly costMode: CostMode;
    /** Items assumed in a list with no page size, default or `@listSize`. */
    readonly defaultListSize: number;
  };
  /** Trusted documents (persisted operation manifest); docs/security.md. */
  readonly trustedDocuments: {
    readonly mode: TrustedDocumentsMode;
    /** Manifest file (watched); exactly one of file and url unless off. */
    readonly file: string | undefined;
    /** Manifest URL (polled; https, or http on loopback). */
    readonly url: string | undefined;
    readonly pollIntervalMs: number;
    /** Token scope that may run unlisted operations in enforce mode (developers, Sandbox). */
    readonly bypassScope: string | undefined;
  };
  readonly auth: {
    /**
     * Token verification, already validated. `undefined` when no key source (PORTICO_JWKS_URL,
     * PORTICO_JWKS_FILE, PORTICO_JWT_HS_SECRET) is set: authentication is off, every request is
     * anonymous, and a request carrying a token gets a 401 (it cannot be verified).
     */
    readonly verifier: TokenVerifierOptions | undefined;
    /** `optional`: anonymous requests allowed; `required`: every request needs a valid token. */
    readonly mode: AuthMode;
    /** Claim holding the rate-limit tier. */
    readonly tierClaim: string;
    /** Headers carrying the verified identity to subgraphs. */
    readonly identityHeaders: IdentityHeaderNames;
    /** Scope that opens `__schema`/`__type` where introspection is closed; `undefined`: nobody. */
    readonly introspectionScope: string | undefined;
  };
}

/** Thrown when the environment is invalid; `problems` has one line per bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Default supergraph: the demo graph shipped in `schemas/` (any other file works the same). */
export const DEFAULT_SUPERGRAPH_PATH = 'schemas/supergraph.graphql';

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
  const crossProblems = [...authProblems(e, verifier), ...corsProblems(e), ...trustedDocumentsProblems(e, verifier)];
  if (crossProblems.length > 0) throw new ConfigError(crossProblems);
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
      policies: e.PORTICO_RATE_LIMITS,
      failMode: e.PORTICO_RATE_LIMIT_FAIL_MODE,
      expectedInstances: e.PORTICO_RATE_LIMIT_INSTANCES,
      trustedHops: e.PORTICO_TRUSTED_PROXY_HOPS,
      apiKeyHeader: e.PORTICO_API_KEY_HEADER ?? 'x-api-key',
      apiKeys: Object.fromEntries(Object.entries(e.PORTICO_API_KEYS).map(([hash, tier]) => [hash.toLowerCase(), tier])),
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
  };
  return deepFreeze(config);
}

type Env = z.output<typeof envSchema>;

/** PORTICO_CORS_ORIGINS: `undefined` when unset (per-environment default), `none` for no origin. */
function corsOrigins() {
  return list([]).transform((items, ctx): string[] | undefined => {
    if (items.length === 0) return undefined;
    if (items.length === 1 && items[0] === 'none') return [];
    for (const item of items) {
      const problem = checkCorsOrigin(item);
      if (problem) ctx.addIssue({ code: 'custom', message: `${problem}; or use none` });
    }
    return items;
  });
}

/** PORTICO_IDENTITY_HEADERS: `subject,scopes,tier` header names, lower-cased. */
function identityHeaderNames() {
  const defaults = [DEFAULT_IDENTITY_HEADERS.subject, DEFAULT_IDENTITY_HEADERS.scopes, DEFAULT_IDENTITY_HEADERS.tier];
  return list(defaults).transform((items, ctx): IdentityHeaderNames => {
    const names = items.map((n) => n.toLowerCase());
    const problem = checkIdentityHeaderNames(names);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    const [subject, scopes, tier] = names as [string, string, string];
    return { subject, scopes, tier };
  });
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

/** Token verifier option name → the variable that sets it, for naming problems in config terms. */
const VERIFIER_OPTION_ENV: Readonly<Record<string, string>> = {
  jwksUrl: 'PORTICO_JWKS_URL',
  keyFile: 'PORTICO_JWKS_FILE',
  hsSecret: 'PORTICO_JWT_HS_SECRET',
  algorithm: 'PORTICO_JWT_ALGORITHMS',
  algorithms: 'PORTICO_JWT_ALGORITHMS',
  issuer: 'PORTICO_JWT_ISSUER',
  audience: 'PORTICO_JWT_AUDIENCE',
  clockToleranceS: 'PORTICO_JWT_CLOCK_TOLERANCE_S',
  maxTokenBytes: 'PORTICO_JWT_MAX_BYTES',
  jwksTimeoutMs: 'PORTICO_JWKS_TIMEOUT_MS',
  jwksCooldownMs: 'PORTICO_JWKS_COOLDOWN_MS',
  jwksCacheMaxAgeMs: 'PORTICO_JWKS_CACHE_MAX_AGE_MS',
  jwksMaxStaleMs: 'PORTICO_JWKS_MAX_STALE_MS',
  tierClaim: 'PORTICO_JWT_TIER_CLAIM',
  verifyCacheTtlMs: 'PORTICO_JWT_VERIFY_CACHE_TTL_MS',
};
/** Option names a problem text mentions: camelCase ones anywhere, plain words only when leading. */
const OPTION_NAME_IN_TEXT = /\b(jwksUrl|keyFile|hsSecret|clockToleranceS|maxTokenBytes|jwksTimeoutMs|jwksCooldownMs|jwksCacheMaxAgeMs|jwksMaxStaleMs|tierClaim|verifyCacheTtlMs)\b/g;

/**
 * Restates a token verifier problem in config terms. The verifier's problems start with the option
 * they concern (its documented format, pinned by test/unit/configAuth.test.ts); that option's
 * variable becomes the prefix and option names in the text become variable names.
 */
export function verifierProblemAsConfig(problem: string): string {
  const leading = /^(\w+)/.exec(problem)?.[1] ?? '';
  const mentioned = [...problem.matchAll(OPTION_NAME_IN_TEXT)].map((m) => m[1] ?? '');
  const name = VERIFIER_OPTION_ENV[leading] ?? VERIFIER_OPTION_ENV[mentioned[0] ?? ''] ?? 'PORTICO_JWKS_URL/PORTICO_JWKS_FILE/PORTICO_JWT_HS_SECRET';
  return `${name}: ${problem.replace(OPTION_NAME_IN_TEXT, (option) => VERIFIER_OPTION_ENV[option] ?? option)}`;
}

/** Authentication problems that involve several variables; each names the variable to fix. */
function authProblems(e: Env, verifier: TokenVerifierOptions | undefined): string[] {
  const problems: string[] = [];
  if (verifier === undefined) {
    const noKeys = 'needs a key source: set PORTICO_JWKS_URL, PORTICO_JWKS_FILE or PORTICO_JWT_HS_SECRET';
    if (e.PORTICO_AUTH_MODE === 'required') problems.push(`PORTICO_AUTH_MODE: required ${noKeys}`);
    if (e.PORTICO_INTROSPECTION_SCOPE !== undefined) problems.push(`PORTICO_INTROSPECTION_SCOPE: a scope can only come from a verified token; ${noKeys}`);
    if (e.PORTICO_JWT_ISSUER.length > 0) problems.push(`PORTICO_JWT_ISSUER: is set but no token is verified; ${noKeys}`);
    if (e.PORTICO_JWT_AUDIENCE.length > 0) problems.push(`PORTICO_JWT_AUDIENCE: is set but no token is verified; ${noKeys}`);
    return problems;
  }
  try {
    const resolved = resolveTokenVerifierOptions(verifier);
    // A key file is read and parsed here too (it is small, and read once more by the verifier), so
    // a missing or unusable file stops the process with the other problems, named.
    // With refuseDevKeys, a file holding a development key is refused here, found by kid or by
    // the key itself wherever the file was copied to.
    if (resolved.keySource.kind === 'file') createFileKeySource(resolved.keySource.path, resolved.algorithms, { refuseDevKeys: resolved.refuseDevKeys }).close();
  } catch (err) {
    if (!(err instanceof TokenVerifierConfigError)) throw err;
    problems.push(...err.problems.map(verifierProblemAsConfig));
  }
  // A token larger than the header limit can never arrive; the smaller limit would be a lie.
  if (e.PORTICO_JWT_MAX_BYTES >= e.PORTICO_MAX_HEADER_BYTES) {
    problems.push(`PORTICO_JWT_MAX_BYTES: must be below PORTICO_MAX_HEADER_BYTES (${e.PORTICO_MAX_HEADER_BYTES}), got ${e.PORTICO_JWT_MAX_BYTES}`);
  }
  // The issuer is known without fetching anything; keys served at a URL are checked when the
  // gateway starts (TokenVerifier.assertNoDevKeys), and every token is checked too.
  if (verifier.refuseDevKeys === true && e.PORTICO_JWT_ISSUER.includes(DEV_ISSUER)) {
    problems.push(`PORTICO_JWT_ISSUER: ${DEV_ISSUER} is the development IdP's issuer: ${DEV_KEYS_REFUSED}`);
  }
  return problems;
}

/** Trusted documents: a mode needs one source, a source needs a mode, a scope needs tokens. */
function trustedDocumentsProblems(e: Env, verifier: TokenVerifierOptions | undefined): string[] {
  const problems: string[] = [];
  const mode = e.PORTICO_TRUSTED_DOCUMENTS_MODE;
  const file = e.PORTICO_TRUSTED_DOCUMENTS_FILE;
  const url = e.PORTICO_TRUSTED_DOCUMENTS_URL;
  if (mode === 'off') {
    // A list that is loaded but never checked would be a silent no-op.
    for (const [name, value] of [['PORTICO_TRUSTED_DOCUMENTS_FILE', file], ['PORTICO_TRUSTED_DOCUMENTS_URL', url], ['PORTICO_TRUSTED_DOCUMENTS_BYPASS_SCOPE', e.PORTICO_TRUSTED_DOCUMENTS_BYPASS_SCOPE]] as const) {
      if (value !== undefined) problems.push(`${name}: has no effect while PORTICO_TRUSTED_DOCUMENTS_MODE=off; set the mode to log or enforce`);
    }
    return problems;
  }
  if ((file === undefined) === (url === undefined)) {
    problems.push(`PORTICO_TRUSTED_DOCUMENTS_MODE: ${mode} needs exactly one of PORTICO_TRUSTED_DOCUMENTS_FILE and PORTICO_TRUSTED_DOCUMENTS_URL${file !== undefined ? ', got both' : ''}`);
  }
  if (url !== undefined) {
    const parsed = new URL(url);
    // A list fetched over plain HTTP could be swapped on the way: it decides what runs.
    if (parsed.protocol !== 'https:' && !LOOPBACK_HOSTS.test(parsed.hostname)) {
      problems.push('PORTICO_TRUSTED_DOCUMENTS_URL: must use https (http is allowed only for localhost / 127.0.0.1 / [::1])');
    }
  }
  if (e.PORTICO_TRUSTED_DOCUMENTS_BYPASS_SCOPE !== undefined && verifier === undefined) {
    problems.push('PORTICO_TRUSTED_DOCUMENTS_BYPASS_SCOPE: a scope can only come from a verified token; needs a key source: set PORTICO_JWKS_URL, PORTICO_JWKS_FILE or PORTICO_JWT_HS_SECRET');
  }
  return problems;
}

/** CORS problems involving two variables. */
function corsProblems(e: Env): string[] {
  if (e.PORTICO_CORS_CREDENTIALS && e.PORTICO_CORS_ORIGINS?.includes('*')) {
    return ['PORTICO_CORS_CREDENTIALS: true cannot be combined with PORTICO_CORS_ORIGINS=* (browsers refuse it, and it would let any site act with the user\'s cookies); list the origins'];
  }
  return [];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
