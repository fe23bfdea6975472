import type { AuthMode, IdentityHeaderNames, TokenVerifierOptions } from '../auth/index.ts';
import type { ExecutorName } from '../execution/options.ts';
import type { CostMode } from '../hardening/index.ts';
import type { TrustedDocumentsMode } from '../trustedDocuments/index.ts';
import type { ControlPlaneSettings } from '../controlPlane/options.ts';
import type { LogLevel, NodeEnv } from './schema.ts';

/**
 * What the rest of the gateway reads: every setting defaulted, validated and frozen by
 * `loadConfig`, grouped by the part of the gateway that uses it.
 */
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
    /** Cost quotas by tier (`free=200000cost/1d` in PORTICO_RATE_LIMITS), in cost units. */
    readonly costPolicies: Readonly<Record<string, { limit: number; windowMs: number }>>;
    /** Longest wait in the queue for quota, by tier, ms; tiers not listed are refused at once. */
    readonly maxWaitMs: Readonly<Record<string, number>>;
    /** Most requests waiting per tier on one instance. */
    readonly queueSize: number;
    /** Least charge of a request against a cost quota, cost units. */
    readonly minCost: number;
  };
  /** Priority load shedding (docs/overload.md). */
  readonly overload: {
    readonly enabled: boolean;
    /** Standing event-loop delay target of the adaptive in-flight limit, ms; 0 = no adaptive limit. */
    readonly standingDelayMs: number;
    /** Mean event-loop delay at which shedding starts, ms; 0 = signal not used. */
    readonly eventLoopDelayMs: number;
    /** Requests in flight at which shedding starts; 0 = signal not used. */
    readonly maxInFlight: number;
    /** Tiers, lowest priority (shed first) first. */
    readonly tierOrder: readonly string[];
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
  /** Control plane (src/controlPlane/): sources, disk cache, canary; README "Configuration". */
  readonly controlPlane: ControlPlaneSettings;
  /** Entity and response cache (src/cache/); TTLs come from subgraph hints unless overridden. */
  readonly cache: {
    readonly enabled: boolean;
    /** Seconds by `subgraph`, `subgraph:Type` or `subgraph:Query.field`; 0 never caches. */
    readonly ttls: Readonly<Record<string, number>>;
    readonly swrS: number;
    readonly staleIfErrorS: number;
    readonly l1MaxEntries: number;
    /** With Redis, longest an instance keeps its own copy, ms. */
    readonly l1TtlMs: number;
    /** Whole answers to anonymous public queries kept per instance; 0: that level is off. */
    readonly responseMaxEntries: number;
  };
  /** OpenTelemetry traces (src/tracing/); off by default. */
  readonly tracing: {
    readonly enabled: boolean;
    /** Head-sampling ratio of traces Portico starts; a client's sampled flag is followed. */
    readonly sampleRatio: number;
    /** Degraded and failed requests are exported even when the ratio dropped them. */
    readonly keepFailed: boolean;
    /** OTLP/HTTP traces URL (…/v1/traces). */
    readonly endpoint: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly serviceName: string;
  };
  /** Synthetic probes (src/probes/): configured operations run through this instance's own pipeline. */
  readonly probes: {
    readonly enabled: boolean;
    /** JSON list of probes; see docs/runbook.md "Synthetic probes". */
    readonly file: string;
    /** True when `file` is the default path (a missing default file means no probes, not an error). */
    readonly fileIsDefault: boolean;
    readonly intervalMs: number;
    readonly timeoutMs: number;
    /** Bearer token the probes authenticate with; unset: anonymous. */
    readonly token: string | undefined;
  };
  /** The status page's history: how often the ring buffer samples, ms. */
  readonly status: { readonly sampleMs: number };
  /** Who executes query plans (PORTICO_EXECUTOR): Portico's own executor or @apollo/gateway's. */
  readonly execution: {
    readonly executor: ExecutorName;
  };
}
