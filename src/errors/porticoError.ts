import { GraphQLError } from 'graphql';
import { refusalStatusOf, type GraphQLErrorCode } from './catalogue.ts';

/**
 * Base class for errors Portico raises itself: stamps `extensions.code` and an HTTP status, by
 * default the catalogue's status for a refusal carrying the code. `extensions.http.status` is how
 * Apollo Server picks the HTTP status for an error thrown from a request hook (and it strips
 * `http` from the response body).
 */
export class PorticoError extends GraphQLError {
  constructor(
    message: string,
    readonly code: GraphQLErrorCode,
    readonly httpStatus: number = refusalStatusOf(code),
    extensions: Readonly<Record<string, unknown>> & { readonly code?: never; readonly http?: never } = {},
  ) {
    // `code` first: the order the operation limits have always been answered with (formatError
    // keeps it), and what the edge refusals send (refusal.ts).
    super(message, { extensions: { code, ...extensions, http: { status: httpStatus } } });
    this.name = 'PorticoError';
  }
}
