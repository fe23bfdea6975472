import type { ApolloServerPlugin } from '@apollo/server';
import type { PorticoContext } from '../request/context.ts';
import { degradationReport } from './report.ts';
import { extend } from '../runtime/objects.ts';

/**
 * Turns what the subgraph data source recorded into response-shaped errors and an
 * `extensions.degraded` summary a UI can read without parsing errors. HTTP status stays 200.
 */
export function degradationPlugin(): ApolloServerPlugin<PorticoContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (contextValue.degraded.length === 0 || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const { errors, summary } = degradationReport(result.data, contextValue.degraded);
          result.errors = [...(result.errors ?? []), ...errors];
          result.extensions = extend(result.extensions, { degraded: summary });
        },
      };
    },
  };
}
