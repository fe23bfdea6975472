import { GraphQLError } from 'graphql';

/**
 * Client-facing codes of the operation limits. They are API (clients and dashboards branch on
 * them); each is answered with HTTP 400 before planning or any subgraph call.
 *
 * - `QUERY_TOO_LARGE`: the document text exceeds the byte limit (checked before parsing).
 * - `TOO_MANY_TOKENS`: the document has more lexical tokens than allowed (checked before parsing).
 * - `QUERY_TOO_DEEP`: fields nest deeper than allowed (through fragments, introspection included).
 * - `TOO_MANY_ALIASES`: more aliased fields than allowed (fragments expanded).
 * - `TOO_MANY_ROOT_FIELDS`: more root fields than allowed (fragments expanded).
 * - `QUERY_TOO_COMPLEX`: the estimated cost (fields × list sizes) exceeds the limit.
 */
export const OperationLimitCode = {
  QUERY_TOO_LARGE: 'QUERY_TOO_LARGE',
  TOO_MANY_TOKENS: 'TOO_MANY_TOKENS',
  QUERY_TOO_DEEP: 'QUERY_TOO_DEEP',
  TOO_MANY_ALIASES: 'TOO_MANY_ALIASES',
  TOO_MANY_ROOT_FIELDS: 'TOO_MANY_ROOT_FIELDS',
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
} as const;
export type OperationLimitCode = (typeof OperationLimitCode)[keyof typeof OperationLimitCode];

/** HTTP status of every limit violation: the request itself is at fault. */
export const OPERATION_LIMIT_HTTP_STATUS = 400;

/**
 * A limit violation. `extensions.http.status` is how Apollo Server picks the HTTP status for an
 * error thrown from a request hook (and it strips `http` from the response body).
 */
export class OperationLimitError extends GraphQLError {
  readonly code: OperationLimitCode;
  /** What was measured (for tokens: limit + 1 once counting stopped at the limit). */
  readonly measured: number;
  readonly limit: number;

  constructor(code: OperationLimitCode, measured: number, limit: number, message: string) {
    super(message, {
      extensions: { code, measured, limit, http: { status: OPERATION_LIMIT_HTTP_STATUS } },
    });
    this.name = 'OperationLimitError';
    this.code = code;
    this.measured = measured;
    this.limit = limit;
  }
}
