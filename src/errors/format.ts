import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/index.ts';
import { ErrorCode } from './codes.ts';

/** Extensions a client may see; anything else (exception, stacktrace, internals) is dropped. */
const SAFE_EXTENSIONS = new Set(['code', 'serviceName', 'breakerKey', 'affectedPaths', 'affectedPathCount', 'stale', 'measured', 'limit', 'retryAfter', 'tier', 'pathCount', 'http']);

/**
 * Apollo Server's `formatError`: the last stop before a client. Unknown failures become
 * INTERNAL_SERVER_ERROR with a generic message in production, logged in full; no stack traces
 * or exception details ever leave (see docs/errors.md).
 */
export function formatErrorFor(config: Config, logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = (formatted.extensions?.code as string | undefined) ?? ErrorCode.INTERNAL_SERVER_ERROR;
    const extensions: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(formatted.extensions ?? {})) if (SAFE_EXTENSIONS.has(k) && k !== 'http') extensions[k] = v;
    extensions.code = code;
    if (code === ErrorCode.INTERNAL_SERVER_ERROR) {
      const original = unwrapResolverError(error);
      logger.error({ err: original, path: formatted.path }, 'internal error in GraphQL execution');
      if (config.isProduction) return { message: 'Internal server error', ...(formatted.path ? { path: formatted.path } : {}), extensions };
    }
    return { ...formatted, extensions };
  };
}
