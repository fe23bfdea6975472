import type { ErrorCode } from '../errors/catalogue.ts';
import { PorticoError } from '../errors/porticoError.ts';

/**
 * Client-facing codes of the operation limits (meanings in src/errors/catalogue.ts); each is
 * answered with HTTP 400 before planning or any subgraph call.
 *
 * - `QUERY_TOO_LARGE`: the document text exceeds the byte limit (checked before parsing).
 * - `TOO_MANY_TOKENS`: the document has more lexical tokens than allowed (checked before parsing).
 * - `QUERY_TOO_DEEP`: fields nest deeper than allowed (through fragments, introspection included).
 * - `TOO_MANY_ALIASES`: more aliased fields than allowed (fragments expanded).
 * - `TOO_MANY_ROOT_FIELDS`: more root fields than allowed (fragments expanded).
 * - `QUERY_TOO_COMPLEX`: the estimated cost (fields × list sizes) exceeds the limit.
 */
export type OperationLimitCode =
  | typeof ErrorCode.QUERY_TOO_LARGE
  | typeof ErrorCode.TOO_MANY_TOKENS
  | typeof ErrorCode.QUERY_TOO_DEEP
  | typeof ErrorCode.TOO_MANY_ALIASES
  | typeof ErrorCode.TOO_MANY_ROOT_FIELDS
  | typeof ErrorCode.QUERY_TOO_COMPLEX;

/** HTTP status of every limit violation: the request itself is at fault. */
export const OPERATION_LIMIT_HTTP_STATUS = 400;

/**
 * A limit violation: `extensions` are `code`, `measured`, `limit` (and `http`, which Apollo
 * Server strips from the response body).
 */
export class OperationLimitError extends PorticoError {
  declare readonly code: OperationLimitCode;
  /** What was measured (for tokens: limit + 1 once counting stopped at the limit). */
  readonly measured: number;
  readonly limit: number;

  constructor(code: OperationLimitCode, measured: number, limit: number, message: string) {
    super(message, code, OPERATION_LIMIT_HTTP_STATUS, { measured, limit });
    this.name = 'OperationLimitError';
    this.measured = measured;
    this.limit = limit;
  }
}
