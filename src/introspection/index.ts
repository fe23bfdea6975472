import type { ApolloServerPlugin } from '@apollo/server';
import type { Principal } from '../auth/principal.ts';
import { introspectionPolicyPlugin } from './plugin.ts';

/**
 * Introspection policy in one place: who may read the schema through `__schema` / `__type`.
 * The rules themselves (what counts as introspection, who may, how deep) are in `policy.ts`;
 * the hardening step holds introspection to its own depth with them.
 */

export interface IntrospectionOptions {
  /** Introspection open to everyone (PORTICO_INTROSPECTION; `auto` opens it outside production). */
  readonly open: boolean;
  /** Scope that opens introspection for its holder where it is not open (PORTICO_INTROSPECTION_SCOPE); `undefined`: nobody. */
  readonly scope: string | undefined;
}

export interface IntrospectionPolicy<TContext extends { readonly principal: Principal }> {
  /** Apollo Server's `introspection` switch. */
  readonly enabled: boolean;
  /** To add to Apollo Server's plugins: the per-request scope check, or nothing. */
  readonly plugins: readonly ApolloServerPlugin<TContext>[];
}

/**
 * Apollo's switch is global, so where introspection is not open to all but a scope may open it,
 * the switch stays on and the plugin refuses `__schema` / `__type` to everyone without the
 * scope. Open: the switch alone, no plugin. Closed without a scope: the switch is off (Apollo
 * refuses at validation) and the plugin refuses whatever would still get through.
 */
export function createIntrospectionPolicy<TContext extends { readonly principal: Principal }>(
  options: IntrospectionOptions,
): IntrospectionPolicy<TContext> {
  return {
    enabled: options.open || options.scope !== undefined,
    plugins: options.open ? [] : [introspectionPolicyPlugin<TContext>({ scope: options.scope })],
  };
}
