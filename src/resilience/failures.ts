import { ErrorCode } from '../errors/catalogue.ts';

/**
 * Why a subgraph fetch failed, in client-safe words, and whether it counts against the
 * breaker. Pure: the data source classifies every failure here and nowhere else.
 */
export type FailureKind =
  | 'connection' // refused, reset, closed before an answer
  | 'timeout' // our per-call timeout fired
  | 'deadline' // the request deadline had no time left for this call
  | 'client_gone' // the client went away; nobody waits for the answer
  | 'circuit_open'
  | 'bulkhead_full'
  | 'http_5xx'
  | 'http_4xx'
  | 'bad_body' // not a GraphQL JSON response
  | 'too_large'; // the answer passed the subgraph response size limit

export class SubgraphFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    /** Client-safe reason: no URLs, addresses, bodies or library error codes. */
    readonly reason: string,
    /** Full detail for the log only. */
    readonly detail?: string,
  ) {
    super(reason);
    this.name = 'SubgraphFailure';
  }

  get code(): ErrorCode {
    return codeFor(this.kind);
  }

  /** Counts against the breaker: the subgraph (or the path to it) is unhealthy. */
  get countsAsFailure(): boolean {
    return countsAsFailure(this.kind);
  }
}

export function codeFor(kind: FailureKind): ErrorCode {
  switch (kind) {
    case 'connection':
    case 'bulkhead_full':
      return ErrorCode.SUBGRAPH_UNAVAILABLE;
    // client_gone: nobody reads it (the client is gone); the nearest code keeps the record well-formed.
    case 'timeout':
    case 'deadline':
    case 'client_gone':
      return ErrorCode.SUBGRAPH_TIMEOUT;
    case 'circuit_open':
      return ErrorCode.SUBGRAPH_CIRCUIT_OPEN;
    case 'http_5xx':
    case 'http_4xx':
    case 'bad_body':
    case 'too_large':
      return ErrorCode.SUBGRAPH_ERROR;
  }
}

/**
 * The breaker's `errorFilter` in one place: connection errors, timeouts, 5xx, unparseable and
 * oversized bodies are the subgraph's fault; a 4xx (our request was wrong) is not, and neither
 * is a deadline we ran out of, a client that went away, nor a rejection by our own bulkhead.
 */
export function countsAsFailure(kind: FailureKind): boolean {
  return kind === 'connection' || kind === 'timeout' || kind === 'http_5xx' || kind === 'bad_body' || kind === 'too_large';
}

/**
 * The breaker's `errorFilter` on what a call threw, before classification: our own deadline
 * and a client that went away say nothing about the subgraph. Counted, a burst of clients
 * disconnecting mid-request (a load balancer draining, a benchmark ending) opened healthy
 * subgraphs' breakers.
 */
export function countsAgainstBreaker(err: unknown): boolean {
  if (err instanceof SubgraphFailure) return err.countsAsFailure;
  if (err instanceof TimeoutReason) return err.kind === 'timeout';
  return true;
}

/**
 * Turns whatever a call threw into a {@link SubgraphFailure}; matches on codes, never on text.
 * `timeoutMs` is the call's limit (what a timeout waited), `elapsedMs` how long the caller
 * really waited (what a deadline or a departing client cut short).
 */
export function classifyFetchError(err: unknown, timeoutMs: number, elapsedMs: number = timeoutMs): SubgraphFailure {
  if (err instanceof SubgraphFailure) return err;
  if (err instanceof TimeoutReason) {
    const waited = Math.round(elapsedMs);
    switch (err.kind) {
      case 'timeout':
        return new SubgraphFailure('timeout', `timed out after ${timeoutMs} ms`);
      case 'deadline':
        return new SubgraphFailure('deadline', `request deadline reached after ${waited} ms`);
      case 'client_gone':
        return new SubgraphFailure('client_gone', `client went away after ${waited} ms`);
    }
  }
  const code = errorCode(err);
  return new SubgraphFailure('connection', describeConnectionCode(code), `${code ?? ''} ${err instanceof Error ? err.message : String(err)}`.trim());
}

/** Why Portico itself ended a call: its timer, the request's deadline, or the client leaving. */
export type AbortKind = 'timeout' | 'deadline' | 'client_gone';

/** The abort reason Portico uses, so an abort of ours is told apart from any other. */
export class TimeoutReason extends Error {
  constructor(readonly kind: AbortKind) {
    super(kind === 'timeout' ? 'subgraph timeout' : kind === 'deadline' ? 'request deadline' : 'client gone');
    this.name = 'TimeoutReason';
  }
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') return c;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeConnectionCode(code: string | undefined): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      return 'connection failed';
  }
}
