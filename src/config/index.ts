/**
 * Configuration, read once from the environment: `schema.ts` says what each variable accepts and
 * its default (and why), `env.ts` holds the builders for each kind of value, `checks.ts` the rules
 * across variables, `load.ts` validates the whole environment and freezes the `Config` of
 * `types.ts` that the rest of the gateway reads.
 */
export { ConfigError, loadConfig } from './load.ts';
export { verifierProblemAsConfig } from './checks.ts';
export type { Config } from './types.ts';
export type { LogLevel, NodeEnv } from './schema.ts';
export {
  DEFAULT_APQ_TTL_S,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_DRAIN_DELAY_MS,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_OPS_PORT,
  DEFAULT_PORT,
  DEFAULT_REQUEST_DEADLINE_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  DEFAULT_SUBGRAPH_MAX_INFLIGHT,
  DEFAULT_SUBGRAPH_MAX_RESPONSE_BYTES,
  DEFAULT_SUBGRAPH_TIMEOUT_MS,
  DEFAULT_SUPERGRAPH_PATH,
} from './schema.ts';
