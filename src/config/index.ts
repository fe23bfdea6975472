import { z } from 'zod';
import {
  DEFAULT_BREAKER_ERROR_PERCENT,
  DEFAULT_BREAKER_RESET_MS,
  DEFAULT_BREAKER_VOLUME_THRESHOLD,
  DEFAULT_BREAKER_WINDOW_MS,
} from '../resilience/breakers.ts';
import { DEFAULT_STALE_TTL_MS } from '../resilience/staleStore.ts';
import { bool, checkHttpUrl, int, list, oneOf, pairs, text } from './env.ts';

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
/** A client request may not take longer than this end to end, whatever the plan does. */
export const DEFAULT_REQUEST_DEADLINE_MS = 5_000;
/** 256 concurrent calls per subgraph: ~5x the in-flight count at our benchmark load (50 clients x 4 fetches / 4 subgraphs). */
export const DEFAULT_SUBGRAPH_MAX_INFLIGHT = 256;

const NODE_ENVS = ['development', 'production', 'test'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const envSchema = z.object({
  NODE_ENV: oneOf(NODE_ENVS, 'development'),
  PORT: int(DEFAULT_PORT, 0, 65_535),
  PORTICO_HOST: text(),
  PORTICO_SUPERGRAPH_PATH: text(),
  PORTICO_SUPERGRAPH_WATCH: bool(true),
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
  PORTICO_CORS_ORIGINS: list([]),
  PORTICO_SUBGRAPH_TIMEOUTS: pairs((v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 600_000 ? undefined : 'timeout must be an integer from 1 to 600000 (ms)')),
  PORTICO_FALLBACKS: pairs((v) => (v === 'stale' || v === 'null' ? undefined : 'fallback must be stale or null')),
  PORTICO_STALE_TTL_MS: int(DEFAULT_STALE_TTL_MS, 1_000, 86_400_000),
  PORTICO_BREAKER_WINDOW_MS: int(DEFAULT_BREAKER_WINDOW_MS, 100, 600_000),
  PORTICO_BREAKER_VOLUME_THRESHOLD: int(DEFAULT_BREAKER_VOLUME_THRESHOLD, 1, 1_000_000),
  PORTICO_BREAKER_ERROR_PERCENT: int(DEFAULT_BREAKER_ERROR_PERCENT, 1, 100),
  PORTICO_BREAKER_RESET_MS: int(DEFAULT_BREAKER_RESET_MS, 100, 3_600_000),
  PORTICO_SUBGRAPH_MAX_INFLIGHT: int(DEFAULT_SUBGRAPH_MAX_INFLIGHT, 1, 100_000),
  PORTICO_SUBGRAPH_DEDUP: bool(true),
  PORTICO_SUBGRAPH_RETRY: bool(true),
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
    readonly corsOrigins: readonly string[];
  };
  readonly supergraph: {
    /** Absolute or cwd-relative path of the supergraph SDL file. */
    readonly path: string;
    /** Watch the file and hot-reload it (last known good on failure). */
    readonly watch: boolean;
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
    readonly retry: boolean;
    readonly breaker: {
      readonly windowMs: number;
      readonly volumeThreshold: number;
      readonly errorThresholdPercent: number;
      readonly resetTimeoutMs: number;
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
      corsOrigins: e.PORTICO_CORS_ORIGINS,
    },
    supergraph: {
      path: e.PORTICO_SUPERGRAPH_PATH ?? DEFAULT_SUPERGRAPH_PATH,
      watch: e.PORTICO_SUPERGRAPH_WATCH,
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
      retry: e.PORTICO_SUBGRAPH_RETRY,
      breaker: {
        windowMs: e.PORTICO_BREAKER_WINDOW_MS,
        volumeThreshold: e.PORTICO_BREAKER_VOLUME_THRESHOLD,
        errorThresholdPercent: e.PORTICO_BREAKER_ERROR_PERCENT,
        resetTimeoutMs: e.PORTICO_BREAKER_RESET_MS,
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
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
