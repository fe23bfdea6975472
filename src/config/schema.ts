import { z } from 'zod';
import {
  checkIdentityHeaderNames,
  DEFAULT_CLOCK_TOLERANCE_S,
  DEFAULT_IDENTITY_HEADERS,
  DEFAULT_JWKS_CACHE_MAX_AGE_MS,
  DEFAULT_JWKS_COOLDOWN_MS,
  DEFAULT_JWKS_MAX_STALE_MS,
  DEFAULT_JWKS_TIMEOUT_MS,
  DEFAULT_MAX_TOKEN_BYTES,
  DEFAULT_VERIFY_CACHE_TTL_MS,
  type IdentityHeaderNames,
} from '../auth/index.ts';
import { checkCorsOrigin } from '../cors/origins.ts';
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
import { DEFAULT_MAX_WAIT_MS, DEFAULT_QUEUE_SIZE } from '../rateLimit/queue.ts';
import { DEFAULT_MIN_COST_CHARGE } from '../rateLimit/costPlugin.ts';
import { DEFAULT_OVERLOAD_EVENT_LOOP_DELAY_MS, DEFAULT_OVERLOAD_MAX_IN_FLIGHT, DEFAULT_OVERLOAD_STANDING_DELAY_MS, DEFAULT_OVERLOAD_TIER_ORDER } from '../overload/gate.ts';
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from '../redis/client.ts';
import {
  DEFAULT_COST_MODE,
  DEFAULT_LIST_SIZE,
  DEFAULT_MAX_ALIASES,
  DEFAULT_MAX_COST,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_DOCUMENT_BYTES,
  DEFAULT_MAX_ROOT_FIELDS,
  DEFAULT_MAX_TOKENS,
} from '../hardening/index.ts';
import { DEFAULT_TRUSTED_DOCUMENTS_POLL_MS } from '../trustedDocuments/index.ts';
import { DEFAULT_EXECUTOR, EXECUTORS } from '../execution/options.ts';
import { DEFAULT_PROBE_INTERVAL_MS, DEFAULT_PROBE_TIMEOUT_MS } from '../probes/defaults.ts';
import { DEFAULT_STATUS_SAMPLE_MS } from '../probes/defaults.ts';
import {
  DEFAULT_CANARY_MAX_ERROR_DELTA_PERCENT,
  DEFAULT_CANARY_MAX_P99_INCREASE_PERCENT,
  DEFAULT_CANARY_MIN_REQUESTS,
  DEFAULT_CANARY_WINDOW_MS,
} from '../controlPlane/canary.ts';
import { DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_MAX_SUPERGRAPH_BYTES, DEFAULT_POLL_MS } from '../controlPlane/httpSource.ts';
import { DEFAULT_CACHE_L1_MAX_ENTRIES, DEFAULT_CACHE_L1_TTL_MS, DEFAULT_CACHE_RESPONSE_MAX_ENTRIES, DEFAULT_CACHE_STALE_IF_ERROR_S, DEFAULT_CACHE_SWR_S } from '../cache/index.ts';
import { bool, checkHttpUrl, int, list, oneOf, optionalInt, optionalNum, pairs, ratePolicies, redisUrl, text, tierDurations, url } from './env.ts';

/**
 * Every environment variable Portico reads: what each accepts and its default, with the reason
 * for the default. Each value's own form and range is checked here (builders in `env.ts`);
 * rules involving several variables are in `checks.ts`, and `load.ts` applies both.
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

/** Default supergraph: the demo graph shipped in `schemas/` (any other file works the same). */
export const DEFAULT_SUPERGRAPH_PATH = 'schemas/supergraph.graphql';

const NODE_ENVS = ['development', 'production', 'test'] as const;
const AUTH_MODES = ['optional', 'required'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const envSchema = z.object({
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
  PORTICO_REDIS_URL: redisUrl(),
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
  // Control plane (issue 16): where the supergraph comes from besides the file, the disk cache
  // for cold starts, and the canary. None set: the file alone, swapped in at once, as before.
  PORTICO_SUPERGRAPH_URLS: list([]),
  PORTICO_SUPERGRAPH_POLL_MS: int(DEFAULT_POLL_MS, 1_000, 86_400_000),
  PORTICO_SUPERGRAPH_FETCH_TIMEOUT_MS: int(DEFAULT_FETCH_TIMEOUT_MS, 100, 120_000),
  PORTICO_SUPERGRAPH_MAX_BYTES: int(DEFAULT_MAX_SUPERGRAPH_BYTES, 1_024, 256 * 1_048_576),
  PORTICO_SUPERGRAPH_PUBLIC_KEY_FILE: text(),
  PORTICO_SUPERGRAPH_PUSH: bool(false),
  PORTICO_SUPERGRAPH_CACHE_DIR: text(),
  PORTICO_SUPERGRAPH_CANARY_PERCENT: optionalInt(0, 50),
  PORTICO_SUPERGRAPH_CANARY_MIN_REQUESTS: int(DEFAULT_CANARY_MIN_REQUESTS, 1, 1_000_000),
  PORTICO_SUPERGRAPH_CANARY_WINDOW_MS: int(DEFAULT_CANARY_WINDOW_MS, 0, 86_400_000),
  PORTICO_SUPERGRAPH_CANARY_MAX_ERROR_DELTA_PERCENT: int(DEFAULT_CANARY_MAX_ERROR_DELTA_PERCENT, 0, 100),
  PORTICO_SUPERGRAPH_CANARY_MAX_P99_INCREASE_PERCENT: int(DEFAULT_CANARY_MAX_P99_INCREASE_PERCENT, 0, 10_000),
  // Fair under overload (issue 18): queueing per tier, the least cost charge, priority shedding.
  // Every default leaves legitimate traffic alone: only premium queues (instead of a 429), and
  // shedding starts only past an in-flight limit learned when the event loop has not drained
  // for a second (a standing delay of 20 ms), and only in favour of a higher tier with requests
  // (docs/overload.md).
  PORTICO_RATE_LIMIT_MAX_WAIT: tierDurations(DEFAULT_MAX_WAIT_MS, 60_000),
  PORTICO_RATE_LIMIT_QUEUE_SIZE: int(DEFAULT_QUEUE_SIZE, 1, 100_000),
  PORTICO_RATE_LIMIT_MIN_COST: int(DEFAULT_MIN_COST_CHARGE, 0, 1_000_000),
  PORTICO_OVERLOAD_SHEDDING: bool(true),
  PORTICO_OVERLOAD_STANDING_DELAY_MS: int(DEFAULT_OVERLOAD_STANDING_DELAY_MS, 0, 10_000),
  PORTICO_OVERLOAD_EVENT_LOOP_DELAY_MS: int(DEFAULT_OVERLOAD_EVENT_LOOP_DELAY_MS, 0, 60_000),
  PORTICO_OVERLOAD_MAX_IN_FLIGHT: int(DEFAULT_OVERLOAD_MAX_IN_FLIGHT, 0, 1_000_000),
  PORTICO_OVERLOAD_TIER_ORDER: list(DEFAULT_OVERLOAD_TIER_ORDER),
  // Entity and response cache (issue 17): on by default; only what a subgraph hints (or an
  // override gives a TTL) is kept.
  PORTICO_CACHE_ENABLED: bool(true),
  PORTICO_CACHE_TTLS: pairs((v) => (/^\d{1,7}$/.test(v) ? undefined : 'TTL must be whole seconds from 0 (never cache) to 9999999')),
  PORTICO_CACHE_SWR_S: int(DEFAULT_CACHE_SWR_S, 0, 86_400),
  PORTICO_CACHE_STALE_IF_ERROR_S: int(DEFAULT_CACHE_STALE_IF_ERROR_S, 0, 86_400),
  PORTICO_CACHE_L1_MAX_ENTRIES: int(DEFAULT_CACHE_L1_MAX_ENTRIES, 1, 10_000_000),
  PORTICO_CACHE_L1_TTL_MS: int(DEFAULT_CACHE_L1_TTL_MS, 1, 86_400_000),
  PORTICO_CACHE_RESPONSE_MAX_ENTRIES: int(DEFAULT_CACHE_RESPONSE_MAX_ENTRIES, 0, 1_000_000),
  // Observability (issue 19): OpenTelemetry traces, synthetic probes, the status page's history.
  // Tracing is off by default: an exporter pointed nowhere would only cost CPU. The standard
  // OTEL_* names are read for what they mean everywhere (endpoint, headers, service name,
  // sampler ratio); PORTICO_OTEL_* for what only Portico has.
  PORTICO_OTEL_ENABLED: bool(false),
  PORTICO_OTEL_SAMPLE_RATIO: optionalNum(0, 1),
  OTEL_TRACES_SAMPLER_ARG: optionalNum(0, 1),
  PORTICO_OTEL_KEEP_FAILED: bool(true),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url(),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(),
  OTEL_EXPORTER_OTLP_HEADERS: pairs(() => undefined),
  OTEL_SERVICE_NAME: text(),
  PORTICO_PROBES_ENABLED: bool(true),
  PORTICO_PROBES_FILE: text(),
  PORTICO_PROBE_INTERVAL_MS: int(DEFAULT_PROBE_INTERVAL_MS, 100, 3_600_000),
  PORTICO_PROBE_TIMEOUT_MS: int(DEFAULT_PROBE_TIMEOUT_MS, 100, 600_000),
  PORTICO_PROBE_TOKEN: text(),
  PORTICO_STATUS_SAMPLE_MS: int(DEFAULT_STATUS_SAMPLE_MS, 100, 60_000),
  // Plan execution (src/execution/): Portico's own executor or @apollo/gateway's.
  PORTICO_EXECUTOR: oneOf(EXECUTORS, DEFAULT_EXECUTOR),
});

export type NodeEnv = (typeof NODE_ENVS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The environment once validated: every variable parsed and defaulted. */
export type Env = z.output<typeof envSchema>;

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
