import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { SubgraphFailure } from '../resilience/failures.ts';
import type { RawResponse } from './types.ts';

/**
 * Classifies an HTTP answer (inside the breaker, so 5xx and garbage count as failures).
 * A 4xx that carries a GraphQL error body is the subgraph telling the client something: pass it on.
 */
export function checkResponse(raw: RawResponse): GatewayGraphQLResponse {
  if (raw.status >= 500) throw new SubgraphFailure('http_5xx', `answered HTTP ${raw.status}`, raw.text.slice(0, 200));
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.text);
  } catch {
    if (raw.status >= 400) throw new SubgraphFailure('http_4xx', `answered HTTP ${raw.status}`, raw.text.slice(0, 200));
    throw new SubgraphFailure('bad_body', 'answered with a body that is not JSON', raw.text.slice(0, 200));
  }
  if (!parsed || typeof parsed !== 'object' || (!('data' in parsed) && !('errors' in parsed))) {
    throw new SubgraphFailure(raw.status >= 400 ? 'http_4xx' : 'bad_body', 'answered with a body that is not a GraphQL response', raw.text.slice(0, 200));
  }
  return parsed as GatewayGraphQLResponse;
}
