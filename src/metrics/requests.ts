import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { Gauge, type Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast.ts';
import type { FinishedRequest, OperationType, PorticoContext } from '../request/context.ts';
import { codesOn } from '../errors/catalogue.ts';
import { operationTypeOf } from '../request/state.ts';
import { statusClass } from './labels.ts';

// Buckets, s.
/** Client requests: 5 ms … 10 s; the request deadline is 5 s by default, so +Inf means "broken". */
export const HTTP_DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Label value for error codes outside {@link KNOWN_ERROR_CODES}. */
export const OTHER_CODE = 'OTHER';

/** Error codes counted under their own name: every code Portico answers GraphQL requests with, and Apollo Server's. */
export const KNOWN_ERROR_CODES: ReadonlySet<string> = new Set([...codesOn('graphql'), ...Object.values(ApolloServerErrorCode)]);

/** Client requests and the GraphQL operations and errors in them. */
export interface RequestMetrics {
  /** Called once per client HTTP request the gateway answered. */
  readonly http: { onResponse(statusCode: number, operationType: OperationType, seconds: number): void };
  readonly graphql: {
    /** A GraphQL operation was resolved (parsed, validated, named). */
    onOperation(operationType: OperationType): void;
    /** One error in a response; unknown codes are counted as `OTHER`. */
    onError(code: string | undefined): void;
  };
  /** Counts operations and response errors; add last, so errors every plugin adds are counted. */
  readonly plugin: ApolloServerPlugin<PorticoContext>;
  /** The request lifecycle's `onFinish`: status class, operation type and duration of the request. */
  onFinish(request: FinishedRequest): void;
}

export function createRequestMetrics(registers: Registry[], knownCodes: ReadonlySet<string>, ready: () => boolean): RequestMetrics {
  const httpRequests = new FastCounter({
    name: 'portico_http_requests_total',
    help: 'Client HTTP requests answered, by status class and GraphQL operation type (none: not a GraphQL operation or refused before parsing).',
    labelNames: ['status_class', 'operation_type'] as const,
    registers,
  });
  const httpDuration = new FastHistogram({
    name: 'portico_http_request_duration_seconds',
    help: 'Time from the first byte of a client request to the last byte of its answer, s.',
    labelNames: ['operation_type'] as const,
    buckets: HTTP_DURATION_BUCKETS_S,
    registers,
  });
  const operations = new FastCounter({
    name: 'portico_graphql_operations_total',
    help: 'GraphQL operations resolved (parsed and validated), by operation type.',
    labelNames: ['operation_type'] as const,
    registers,
  });
  const errors = new FastCounter({
    name: 'portico_graphql_errors_total',
    help: 'Errors in GraphQL responses, by extensions.code (codes outside the known set count as OTHER).',
    labelNames: ['code'] as const,
    registers,
  });
  new Gauge({
    name: 'portico_ready',
    help: '1 while this instance accepts traffic (lifecycle ready), else 0 (starting, draining, stopped).',
    registers,
    collect() {
      this.set(ready() ? 1 : 0);
    },
  });

  const http: RequestMetrics['http'] = {
    onResponse(statusCode, operationType, seconds) {
      httpRequests.inc({ status_class: statusClass(statusCode), operation_type: operationType });
      httpDuration.observe({ operation_type: operationType }, seconds);
    },
  };
  const graphql: RequestMetrics['graphql'] = {
    onOperation(operationType) {
      operations.inc({ operation_type: operationType });
    },
    onError(code) {
      errors.inc({ code: code !== undefined && knownCodes.has(code) ? code : OTHER_CODE });
    },
  };
  return {
    http,
    graphql,
    plugin: {
      async requestDidStart() {
        return {
          async didResolveOperation({ operation }) {
            graphql.onOperation(operationTypeOf(operation?.operation));
          },
          async willSendResponse({ response }) {
            const errors = response.body.kind === 'single' ? response.body.singleResult.errors : response.body.initialResult.errors;
            for (const e of errors ?? []) graphql.onError(e.extensions?.code as string | undefined);
          },
        };
      },
    },
    onFinish({ state, status, ms }) {
      http.onResponse(status, state.operation?.type ?? 'none', ms / 1_000);
    },
  };
}
