/**
 * Introspection for trusted developers. Apollo Server's `introspection` flag is one switch for
 * everybody; this plugin narrows it per request: `__schema` / `__type` are refused unless
 * introspection is open to all (development) or the caller's token carries the configured scope.
 * `__typename` is not introspection of the schema and is always allowed (clients need it).
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
import type { Principal } from '../auth/principal.ts';
import { mayIntrospect, selectsSchemaIntrospection } from './policy.ts';

export interface IntrospectionPolicyOptions {
  /** Scope that opens introspection for its holder; `undefined`: nobody (plugin refuses all). */
  readonly scope: string | undefined;
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
