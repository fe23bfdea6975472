/**
 * Introspection for trusted developers. Apollo Server's `introspection` flag is one switch for
 * everybody; this plugin narrows it per request: `__schema` / `__type` are refused unless
 * introspection is open to all (development) or the caller's token carries the configured scope.
 * `__typename` is not introspection of the schema and is always allowed (clients need it).
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { BREAK, GraphQLError, visit, type DocumentNode } from 'graphql';
import type { Principal } from './principal.ts';

export interface IntrospectionPolicyOptions {
  /** Scope that opens introspection for its holder; `undefined`: nobody (plugin refuses all). */
  readonly scope: string | undefined;
}

/**
 * Answers per document object: Apollo Server hands every request with the same query text the
 * same parsed document, so the walk (1.5 % of a request's CPU when profiled) runs once per text.
 */
const introspects = new WeakMap<DocumentNode, boolean>();

/** True when the document selects `__schema` or `__type` anywhere (fragments included). Pure. */
export function selectsSchemaIntrospection(document: DocumentNode): boolean {
  let found = introspects.get(document);
  if (found === undefined) {
    found = walkForIntrospection(document);
    introspects.set(document, found);
  }
  return found;
}

function walkForIntrospection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** True when `principal` may introspect under `scope`. Pure. */
export function mayIntrospect(principal: Principal, scope: string | undefined): boolean {
  return scope !== undefined && principal.kind === 'user' && principal.scopes.includes(scope);
}

/**
 * The plugin. Install it only where Apollo's own flag is on but introspection must not be open
 * to all (production with an introspection scope); elsewhere Apollo's flag decides alone.
 */
export function introspectionPolicyPlugin<TContext extends { readonly principal: Principal }>(
  options: IntrospectionPolicyOptions,
): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, contextValue }) {
          if (mayIntrospect(contextValue.principal, options.scope) || !selectsSchemaIntrospection(document)) return;
          // Same code and status as Apollo's own refusal, so clients see one behaviour.
          throw new GraphQLError('GraphQL introspection is not allowed: __schema and __type need a token with the introspection scope', {
            extensions: { code: ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED, http: { status: 400 } },
          });
        },
      };
    },
  };
}
