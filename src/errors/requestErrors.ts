/**
 * The request's own mistakes answer 4xx with a documented code, never 500.
 *
 * Apollo Server leaves one of them to its executor: when `operationName` picks no operation
 * (unknown, malformed, or several operations and no name) it still calls the gateway, whose
 * failure it answers with HTTP 500 `INVALID_GRAPHQL`, echoing the name whole. This plugin refuses
 * those requests in `didResolveOperation`, the first hook that knows the outcome and the last
 * before planning, and keeps a net under every other request error: a response made only of
 * request-error codes is never sent with a 5xx status.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Kind, type DocumentNode } from 'graphql';
import { clientInputPrefix } from './clientText.ts';
import { ErrorCode } from './catalogue.ts';
import { PorticoError } from './porticoError.ts';

/** HTTP status of every request error. */
export const REQUEST_ERROR_HTTP_STATUS = 400;

/** Codes meaning the request itself is at fault, whatever status a library picked for them. */
export const REQUEST_ERROR_CODES: ReadonlySet<string> = new Set([
  ErrorCode.BAD_REQUEST,
  ErrorCode.GRAPHQL_PARSE_FAILED,
  ErrorCode.GRAPHQL_VALIDATION_FAILED,
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.OPERATION_RESOLUTION_FAILURE,
  ErrorCode.INVALID_OPERATION_NAME,
]);

/** GraphQL `Name` (spec §2.1.9): what an operation name must look like to name anything. */
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/**
 * The error for a document whose operation could not be picked with `operationName`. Pure.
 * Messages quote at most a short, sanitized prefix of the name.
 */
export function unresolvedOperationError(document: DocumentNode, operationName: string | null | undefined): PorticoError {
  const count = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).length;
  if (operationName === undefined || operationName === null) {
    const message =
      count > 1
        ? `the document holds ${count} operations: send operationName to choose one`
        : 'the document holds no operation to run';
    return new PorticoError(message, ErrorCode.OPERATION_RESOLUTION_FAILURE, REQUEST_ERROR_HTTP_STATUS);
  }
  if (operationName === '') {
    return new PorticoError(
      'operationName is empty: send the name of one of the document\'s operations, or leave it out when there is only one',
      ErrorCode.INVALID_OPERATION_NAME,
      REQUEST_ERROR_HTTP_STATUS,
    );
  }
  const shown = clientInputPrefix(operationName);
  if (!GRAPHQL_NAME.test(operationName)) {
    return new PorticoError(
      `operationName "${shown}" is not a GraphQL name (letters, digits and _, not starting with a digit)`,
      ErrorCode.INVALID_OPERATION_NAME,
      REQUEST_ERROR_HTTP_STATUS,
    );
  }
  return new PorticoError(`no operation named "${shown}" in the document`, ErrorCode.OPERATION_RESOLUTION_FAILURE, REQUEST_ERROR_HTTP_STATUS);
}

/**
 * The plugin. Add it before every other plugin with a `didResolveOperation` hook: Apollo runs
 * those hooks together and answers with the first failure, and the others assume an operation.
 */
export function requestErrorsPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request }) {
          if (operation === undefined) throw unresolvedOperationError(document, request.operationName);
        },
        async willSendResponse({ response }) {
          // The net: Apollo answers 500 for any request-phase error that names no status.
          const status = response.http.status;
          if (status === undefined || status < 500 || response.body.kind !== 'single') return;
          const { data, errors } = response.body.singleResult;
          if (data !== undefined && data !== null) return;
          if (errors?.length && errors.every((e) => REQUEST_ERROR_CODES.has(String(e.extensions?.code)))) {
            response.http.status = REQUEST_ERROR_HTTP_STATUS;
          }
        },
      };
    },
  };
}
