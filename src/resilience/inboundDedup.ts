import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import type { FormattedExecutionResult } from 'graphql';
import type { Principal } from '../auth/principal.ts';
import type { PorticoContext } from '../request/context.ts';

/**
 * Opt-in inbound deduplication (`PORTICO_INBOUND_DEDUP`): identical concurrent query operations
 * — same document (after authorization, so the same permission set), operation name,
 * variables and identity — are executed once; the others get a copy of that answer. Never for
 * mutations. Off by default: it changes nothing about correctness for queries, but a client
 * that polls expects each answer to be fresh, and that is a product decision.
 */
export function inboundDedupPlugin(): ApolloServerPlugin<PorticoContext> {
  const inflight = new Map<string, Leader>();
  return {
    async requestDidStart() {
      let key: string | undefined;
      let leading: Leader | undefined;
      return {
        async responseForOperation(rc) {
          if (rc.operation?.operation !== 'query') return null;
          key = `${rc.queryHash}\u0000${rc.request.operationName ?? ''}\u0000${JSON.stringify(rc.request.variables ?? {})}\u0000${identityKey(rc.contextValue.principal)}`;
          const leader = inflight.get(key);
          if (leader) {
            leader.followers++;
            const json = await leader.result;
            rc.contextValue.sharedResponse = true;
            return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: JSON.parse(json) as FormattedExecutionResult } };
          }
          let publish!: (json: string) => void;
          leading = { followers: 0, result: new Promise<string>((resolve) => (publish = resolve)), publish };
          inflight.set(key, leading);
          return null;
        },
        async willSendResponse({ response }) {
          if (!leading || key === undefined) return;
          inflight.delete(key);
          // Serialized only when someone waits: most requests have no twin in flight.
          if (leading.followers === 0) return;
          leading.publish(
            response.body.kind === 'single'
              ? JSON.stringify(response.body.singleResult)
              : '{"errors":[{"message":"incremental response","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}',
          );
        },
      };
    },
  };
}

interface Leader {
  followers: number;
  result: Promise<string>;
  publish: (json: string) => void;
}

function identityKey(p: Principal): string {
  return p.kind === 'anonymous' ? '-' : JSON.stringify([p.subject, p.scopes, p.tier]);
}
