import { GraphQLError } from 'graphql';

/**
 * Every `extensions.code` Portico puts in a response. These are API: clients branch on them,
 * dashboards count them. Add codes, never rename them. Documented in docs/errors.md.
 */
export const ErrorCode = {
  /** Token missing where required, or present but invalid (HTTP 401). */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** Authenticated, but lacking the scope or policy a field needs. */
  FORBIDDEN: 'FORBIDDEN',
  /** Over the client's quota (HTTP 429). */
  RATE_LIMITED: 'RATE_LIMITED',
  /** Redis unreachable and the limiter is configured fail-closed (HTTP 503). */
  RATE_LIMITER_UNAVAILABLE: 'RATE_LIMITER_UNAVAILABLE',
  /** The subgraph could not be reached (refused, reset, DNS) or its bulkhead was full. */
  SUBGRAPH_UNAVAILABLE: 'SUBGRAPH_UNAVAILABLE',
  /** The subgraph did not answer within its timeout or the request deadline. */
  SUBGRAPH_TIMEOUT: 'SUBGRAPH_TIMEOUT',
  /** The breaker for this subgraph and field group is open: not even tried. */
  SUBGRAPH_CIRCUIT_OPEN: 'SUBGRAPH_CIRCUIT_OPEN',
  /** The subgraph answered, but with a 5xx or a body that is not a GraphQL response. */
  SUBGRAPH_ERROR: 'SUBGRAPH_ERROR',
  /** Request body is not valid JSON / GraphQL request shape (HTTP 400). */
  BAD_REQUEST: 'BAD_REQUEST',
  /** The document does not parse (HTTP 400). Apollo Server's code, kept for its clients. */
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  /** The document is not valid against the schema, or asks for refused introspection (HTTP 400). Apollo Server's code. */
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  /** A variable's value does not fit its declared type (HTTP 400). Apollo Server's code. */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /**
   * The document is valid but which operation to run is unclear: `operationName` names none of
   * its operations, or it holds several and no `operationName` was sent (HTTP 400). Apollo
   * Server's name for it, which Apollo Server itself answered with a 500 behind a gateway.
   */
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  /** `operationName` is not a GraphQL name: empty, control characters, punctuation (HTTP 400). */
  INVALID_OPERATION_NAME: 'INVALID_OPERATION_NAME',
  /** APQ hash unknown: the client re-sends the query with its hash (HTTP 200, the APQ protocol). */
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  /** APQ is disabled (PORTICO_APQ_ENABLED=false) (HTTP 200, the APQ protocol). */
  PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_QUERY_NOT_SUPPORTED',
  /**
   * Trusted documents: the operation is not in the list of the published apps' operations
   * (`PORTICO_TRUSTED_DOCUMENTS_MODE=enforce`), or a `documentId` names none of them (HTTP 400).
   */
  PERSISTED_QUERY_NOT_IN_LIST: 'PERSISTED_QUERY_NOT_IN_LIST',
  /** Request headers over the configured limit (HTTP 431). */
  HEADERS_TOO_LARGE: 'HEADERS_TOO_LARGE',
  /** The client did not send its request in time (HTTP 408). */
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  /** Request body over the configured limit (HTTP 413). */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /**
   * Credentials sent in a way that is refused before any verification (HTTP 400, RFC 6750
   * `invalid_request`): more than one `Authorization` header, or an `access_token` in the query
   * string or the body.
   */
  INVALID_AUTH_REQUEST: 'INVALID_AUTH_REQUEST',
  /** Anything unexpected; details only in the log. */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class for errors Portico raises itself: stamps `extensions.code` and an HTTP status. */
export class PorticoError extends GraphQLError {
  constructor(
    message: string,
    readonly code: ErrorCode | string,
    readonly httpStatus: number,
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...extensions, code, http: { status: httpStatus } } });
    this.name = 'PorticoError';
  }
}
