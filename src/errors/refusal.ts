import type { ErrorCode } from './catalogue.ts';

/**
 * The GraphQL-shaped body of a refusal at the HTTP edge, sent before Apollo Server sees the
 * request (auth, rate limit, query text limits, body and parser errors):
 * `{ "errors": [{ "message", "extensions": { "code", ... } }] }`. `C` narrows the code, `X` types
 * the extensions after it.
 */
export interface RefusalBody<C extends ErrorCode = ErrorCode, X extends object = object> {
  readonly errors: readonly [{ readonly message: string; readonly extensions: { readonly code: C } & Readonly<X> }];
}

/**
 * Builds a refusal body. Pure. `code` comes first in `extensions`, then `extensions` in their
 * order: the JSON text stays what clients have always been sent.
 */
export function refusalBody<C extends ErrorCode, X extends object & { readonly code?: never } = object>(
  code: C,
  message: string,
  extensions?: X,
): RefusalBody<C, X> {
  return { errors: [{ message, extensions: { code, ...extensions } as { readonly code: C } & X }] };
}
