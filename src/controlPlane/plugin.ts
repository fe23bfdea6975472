import type { ApolloServerPlugin } from '@apollo/server';
import type { PorticoContext } from '../request/context.ts';
import type { Lane, RequestOutcome } from './canary.ts';

/**
 * What each request of a lane came to, for the canary's judge: HTTP status, the codes of the
 * errors in the final answer, degraded fetches and the time since the request arrived. Last in
 * the plugin list, so it sees the errors every other plugin added.
 */
export function laneOutcomePlugin(lane: Lane, record: (lane: Lane, outcome: RequestOutcome) => void): ApolloServerPlugin<PorticoContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          const result = response.body.kind === 'single' ? response.body.singleResult : response.body.initialResult;
          const errorCodes = (result.errors ?? []).map((e) => String(e.extensions?.code ?? 'UNKNOWN'));
          record(lane, {
            status: response.http.status ?? 200,
            errorCodes,
            degraded: contextValue.degraded.length,
            durationMs: performance.now() - contextValue.startedAt,
          });
        },
      };
    },
  };
}
