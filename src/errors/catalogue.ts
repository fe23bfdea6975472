/**
 * Every code Portico answers with, in one table: the HTTP status a response carrying it has, on
 * which listener, when it is sent and what the client should do. Codes are API: clients branch on
 * them, dashboards count them (`portico_graphql_errors_total{code}`), scripts read the ops
 * listener's. Add rows, never rename a code. docs/errors.md lists every row with its statuses;
 * test/unit/errors/catalogue.test.ts keeps the two in step.
 *
 * Pure data, no imports: the lowest layer, readable by every other one.
 */

/** The listener a code is sent on: the public GraphQL one, or the ops listener (admin, status). */
export type Listener = 'graphql' | 'ops';

/** One HTTP status, or several where one code is really sent with more than one, the usual first. */
export type HttpStatuses = readonly [number, ...number[]];

/** One row of the catalogue. */
export interface ErrorCatalogueEntry {
  /**
   * Statuses of a GraphQL-listener response carrying the code. The first is the status of a
   * refusal of the whole request, the one {@link PorticoError} defaults to; a 200 after it is an
   * error beside data (a `null` field). Absent: the GraphQL listener never sends the code.
   */
  readonly graphql?: HttpStatuses;
  /**
   * Statuses of an ops-listener answer (`{ "error": { "code", "message" } }`, admin and status
   * routes, never behind the public load balancer). Absent: the ops listener never sends it.
   */
  readonly ops?: HttpStatuses;
  /** When it is sent, in one line. */
  readonly meaning: string;
  /** What the client should do about it, in one line. */
  readonly action: string;
}

/**
 * The table. Keyed by code; {@link ErrorCode} below spells the same codes out for
 * `ErrorCode.X` uses and is checked against these keys by the compiler.
 */
export const ERROR_CATALOGUE = {
  // Authentication and authorization
  UNAUTHENTICATED: {
    graphql: [401, 200],
    ops: [401],
    meaning: 'token missing where required or invalid (401 + WWW-Authenticate); per field (200, field null) for an anonymous caller; on ops, no admin token',
    action: 'get a new token; for a field error, log in',
  },
  INVALID_AUTH_REQUEST: {
    graphql: [400],
    meaning: 'credentials sent ambiguously (RFC 6750 invalid_request): two Authorization headers, or an access_token in the query string or body',
    action: 'send the token once, in one Authorization: Bearer header',
  },
  FORBIDDEN: {
    graphql: [403, 200],
    ops: [403],
    meaning: 'authenticated, but a field needs a scope or policy the token lacks (200 with the field null; 403 in reject mode); on ops, not the admin token',
    action: 'hide the feature; retrying with the same credentials will not help',
  },
  ADMIN_DISABLED: {
    ops: [403],
    meaning: 'PORTICO_ADMIN_TOKEN is not set on this instance: every admin action is refused',
    action: 'set PORTICO_ADMIN_TOKEN to enable admin actions',
  },

  // Rate limits
  RATE_LIMITED: {
    graphql: [429],
    meaning: "over the caller's tier quota; extensions.retryAfter and the Retry-After header say when it would be admitted",
    action: 'wait Retry-After seconds',
  },
  RATE_LIMITER_UNAVAILABLE: {
    graphql: [503],
    meaning: 'Redis is unreachable and the limiter is fail-closed (PORTICO_RATE_LIMIT_FAIL_MODE=closed): no decision could be made',
    action: 'retry after Retry-After seconds; the caller did nothing wrong',
  },

  // The request's own mistakes
  BAD_REQUEST: {
    graphql: [400, 405, 415],
    ops: [400, 413, 415],
    meaning: 'malformed JSON or HTTP, wrong content type (415), a mutation over GET (405), batched request, missing query, an APQ hash that does not match',
    action: 'fix the request',
  },
  GRAPHQL_PARSE_FAILED: {
    graphql: [400],
    meaning: "the document does not parse (Apollo Server's code)",
    action: 'fix the query',
  },
  GRAPHQL_VALIDATION_FAILED: {
    graphql: [400],
    meaning: "the document is not valid against the schema, or asks for refused introspection (Apollo Server's code)",
    action: 'fix the query',
  },
  BAD_USER_INPUT: {
    graphql: [400],
    meaning: "a variable's value does not fit its declared type (Apollo Server's code)",
    action: 'fix the variables',
  },
  OPERATION_RESOLUTION_FAILURE: {
    graphql: [400],
    meaning: 'operationName names none of the operations, or several are sent without one (Apollo Server answered 500 behind a gateway)',
    action: "send the name of one of the document's operations",
  },
  INVALID_OPERATION_NAME: {
    graphql: [400],
    meaning: 'operationName is not a GraphQL name: empty, control characters, punctuation',
    action: "send the operation's name, or leave it out for a single operation",
  },
  HEADERS_TOO_LARGE: {
    graphql: [431],
    meaning: 'request headers over PORTICO_MAX_HEADER_BYTES (e.g. a huge token)',
    action: 'send smaller headers',
  },
  REQUEST_TIMEOUT: {
    graphql: [408],
    meaning: 'headers or body not received within PORTICO_HEADERS_TIMEOUT_MS / PORTICO_REQUEST_TIMEOUT_MS',
    action: 'send faster',
  },
  PAYLOAD_TOO_LARGE: {
    graphql: [413],
    meaning: 'request body over PORTICO_BODY_LIMIT_BYTES',
    action: 'send a smaller request',
  },

  // Persisted queries and trusted documents
  PERSISTED_QUERY_NOT_FOUND: {
    graphql: [200],
    meaning: 'APQ: the hash is not registered (yet); 200 is the APQ protocol',
    action: 're-send with the query text and its hash (Apollo Client does this itself)',
  },
  PERSISTED_QUERY_NOT_SUPPORTED: {
    graphql: [200],
    meaning: 'APQ is off (PORTICO_APQ_ENABLED=false); 200 is the APQ protocol',
    action: 'send the query text',
  },
  PERSISTED_QUERY_NOT_IN_LIST: {
    graphql: [400],
    meaning: "trusted documents: the operation is not in the published apps' list (enforce mode), or a documentId names none",
    action: 'send a listed operation (its id), or, as a developer, a token with the bypass scope',
  },

  // Operation limits, before planning; extensions.measured and extensions.limit say by how much
  QUERY_TOO_LARGE: {
    graphql: [400],
    meaning: 'the document text exceeds the byte limit (checked before parsing)',
    action: 'simplify the query',
  },
  TOO_MANY_TOKENS: {
    graphql: [400],
    meaning: 'the document has more lexical tokens than allowed (checked before parsing)',
    action: 'simplify the query',
  },
  QUERY_TOO_DEEP: {
    graphql: [400],
    meaning: 'fields nest deeper than allowed (through fragments, introspection included)',
    action: 'simplify the query',
  },
  TOO_MANY_ALIASES: {
    graphql: [400],
    meaning: 'more aliased fields than allowed (fragments expanded)',
    action: 'simplify the query',
  },
  TOO_MANY_ROOT_FIELDS: {
    graphql: [400],
    meaning: 'more root fields than allowed (fragments expanded)',
    action: 'simplify the query',
  },
  QUERY_TOO_COMPLEX: {
    graphql: [400],
    meaning: 'the estimated cost (fields x list sizes) exceeds the limit; only with PORTICO_COST_MODE=enforce',
    action: 'simplify the query',
  },

  // Subgraph failures: partial data, the affected fields null
  SUBGRAPH_UNAVAILABLE: {
    graphql: [200],
    meaning: 'the subgraph could not be reached (refused, reset, DNS) or its bulkhead was full',
    action: 'show the rest of the page; the field may come back on retry',
  },
  SUBGRAPH_TIMEOUT: {
    graphql: [200],
    meaning: 'the subgraph did not answer within its timeout or the request deadline',
    action: 'show the rest of the page; the field may come back on retry',
  },
  SUBGRAPH_CIRCUIT_OPEN: {
    graphql: [200],
    meaning: 'the breaker for this subgraph and field group is open: not even tried',
    action: 'show the rest of the page; do not retry in a tight loop',
  },
  SUBGRAPH_ERROR: {
    graphql: [200],
    meaning: 'the subgraph answered, but with a 5xx or a body that is not a GraphQL response',
    action: 'show the rest of the page; the field may come back on retry',
  },

  // Ops listener
  NOT_FOUND: {
    ops: [404],
    meaning: 'no such route, or a breaker target naming no subgraph of the supergraph',
    action: 'check the route or the subgraph name (see /status)',
  },
  SUPERGRAPH_REJECTED: {
    ops: [422],
    meaning: 'the new supergraph was rejected; the last good one keeps serving',
    action: 'fix the supergraph file and reload again',
  },
  NOT_IMPLEMENTED: {
    ops: [501],
    meaning: 'the admin action has no provider in this build or configuration',
    action: 'do not retry on this instance',
  },

  // Control plane (issue 16)
  NO_CANARY: {
    ops: [409],
    meaning: 'promote or abort with no canary running (abort: and no earlier supergraph to roll back to)',
    action: 'check /health/subgraphs (gateway.controlPlane) for what is serving',
  },

  // Overload (issue 18): this instance sheds the lowest tiers first
  OVERLOADED: {
    graphql: [503],
    meaning: "this instance is past its overload threshold (event-loop delay or requests in flight) and sheds the caller's tier; lower tiers go first, premium last; extensions.retryAfter and Retry-After say when to retry",
    action: 'retry after Retry-After seconds (another instance may answer at once); the caller did nothing wrong',
  },

  // Anything else
  INTERNAL_SERVER_ERROR: {
    graphql: [500, 200],
    ops: [500],
    meaning: 'anything unexpected; in production the message is generic, the detail only in the log with the request id',
    action: 'report the x-request-id',
  },
} as const satisfies Readonly<Record<string, ErrorCatalogueEntry>>;

/** Every code Portico answers with; see {@link ERROR_CATALOGUE} for what each means. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/**
 * The codes by name, for `ErrorCode.RATE_LIMITED`. Spelled out rather than computed from the
 * table so each line reads as the code it is (docs.test.ts reads them); `satisfies` makes the
 * compiler refuse a code missing here, one that is not in the table, or a misspelled value.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  INVALID_AUTH_REQUEST: 'INVALID_AUTH_REQUEST',
  FORBIDDEN: 'FORBIDDEN',
  ADMIN_DISABLED: 'ADMIN_DISABLED',
  RATE_LIMITED: 'RATE_LIMITED',
  RATE_LIMITER_UNAVAILABLE: 'RATE_LIMITER_UNAVAILABLE',
  BAD_REQUEST: 'BAD_REQUEST',
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  INVALID_OPERATION_NAME: 'INVALID_OPERATION_NAME',
  HEADERS_TOO_LARGE: 'HEADERS_TOO_LARGE',
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_QUERY_NOT_SUPPORTED',
  PERSISTED_QUERY_NOT_IN_LIST: 'PERSISTED_QUERY_NOT_IN_LIST',
  QUERY_TOO_LARGE: 'QUERY_TOO_LARGE',
  TOO_MANY_TOKENS: 'TOO_MANY_TOKENS',
  QUERY_TOO_DEEP: 'QUERY_TOO_DEEP',
  TOO_MANY_ALIASES: 'TOO_MANY_ALIASES',
  TOO_MANY_ROOT_FIELDS: 'TOO_MANY_ROOT_FIELDS',
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  SUBGRAPH_UNAVAILABLE: 'SUBGRAPH_UNAVAILABLE',
  SUBGRAPH_TIMEOUT: 'SUBGRAPH_TIMEOUT',
  SUBGRAPH_CIRCUIT_OPEN: 'SUBGRAPH_CIRCUIT_OPEN',
  SUBGRAPH_ERROR: 'SUBGRAPH_ERROR',
  NOT_FOUND: 'NOT_FOUND',
  SUPERGRAPH_REJECTED: 'SUPERGRAPH_REJECTED',
  NOT_IMPLEMENTED: 'NOT_IMPLEMENTED',
  NO_CANARY: 'NO_CANARY',
  OVERLOADED: 'OVERLOADED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const satisfies { readonly [C in ErrorCode]: C };

/** Codes the GraphQL listener sends: what a {@link PorticoError} may carry. */
export type GraphQLErrorCode = { [C in ErrorCode]: (typeof ERROR_CATALOGUE)[C] extends { readonly graphql: HttpStatuses } ? C : never }[ErrorCode];

/** Codes the ops listener sends. */
export type OpsErrorCode = { [C in ErrorCode]: (typeof ERROR_CATALOGUE)[C] extends { readonly ops: HttpStatuses } ? C : never }[ErrorCode];

/** The codes sent on `listener`, in table order. */
export function codesOn(listener: Listener): ErrorCode[] {
  return (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).filter((code) => catalogueEntry(code)[listener] !== undefined);
}

/** The catalogue's row for `code`. */
export function catalogueEntry(code: ErrorCode): ErrorCatalogueEntry {
  return ERROR_CATALOGUE[code];
}

/** Status of a GraphQL-listener refusal of the whole request carrying `code` (the table's first). */
export function refusalStatusOf(code: GraphQLErrorCode): number {
  return ERROR_CATALOGUE[code].graphql[0];
}
