import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from '../logging/index.ts';
import { boundClientMessage } from './clientText.ts';
import { ErrorCode } from './catalogue.ts';
import { extend } from '../runtime/objects.ts';

/** Extensions a client may see; anything else (exception, stacktrace, internals) is dropped. */
const SAFE_EXTENSIONS = new Set(['code', 'serviceName', 'breakerKey', 'affectedPaths', 'affectedPathCount', 'stale', 'measured', 'limit', 'retryAfter', 'tier', 'pathCount', 'http']);

/**
 * Apollo Server's `formatError`: the last stop before a client. Unknown failures become
 * INTERNAL_SERVER_ERROR with a generic message in production, logged in full; no stack traces
 * or exception details ever leave (see docs/errors.md). Every message is bounded: control
 * characters shown as `?`, quoted client input cut to a short prefix (see clientText.ts).
 */
export function formatErrorFor(options: { readonly isProduction: boolean }, logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    // Apollo fills in INTERNAL_SERVER_ERROR for an error without a code, so that is checked on
    // the original: a code-less error that chose a 4xx status is the request's fault.
    const code = (formatted.extensions?.code as string | undefined) ?? ErrorCode.INTERNAL_SERVER_ERROR;
    const clientCode = code === ErrorCode.INTERNAL_SERVER_ERROR && isCodelessClientError(error) ? ErrorCode.BAD_REQUEST : code;
    const extensions: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(formatted.extensions ?? {})) if (SAFE_EXTENSIONS.has(k) && k !== 'http') extensions[k] = v;
    extensions.code = clientCode;
    if (clientCode === ErrorCode.INTERNAL_SERVER_ERROR) {
      const original = unwrapResolverError(error);
      logger.error({ err: original, path: formatted.path }, 'internal error in GraphQL execution');
      if (options.isProduction) return { message: 'Internal server error', ...(formatted.path ? { path: formatted.path } : {}), extensions };
    }
    return extend(formatted, { message: boundClientMessage(formatted.message), extensions });
  };
}

/**
 * True for an error with no code whose `extensions.http.status` is 4xx: Apollo Server raises its
 * persisted-query refusals (hash mismatch, unknown version) this way.
 */
function isCodelessClientError(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.extensions.code !== undefined) return false;
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}
