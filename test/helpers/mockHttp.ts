/** Small HTTP helpers for the mock-subgraph tests: GraphQL over fetch and the control endpoints. */
import type { RunningMock } from '../../subgraphs-mock/index.ts';

/** Per-request bound so a misbehaving mock fails the test instead of hanging it. */
export const REQUEST_TIMEOUT_MS = 10_000;

export interface GqlResponse {
  status: number;
  contentType: string | null;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: any;
}

/** POSTs a GraphQL operation. */
export async function gql(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<GqlResponse> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: JSON.stringify({ query, variables }),
    signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (HTML error page, garbage): keep the text for the assertion.
  }
  return { status: res.status, contentType: res.headers.get('content-type'), body };
}

/** Calls a control endpoint (`/faults`, `/stats`) of a mock. */
export async function control(
  mock: RunningMock,
  method: 'GET' | 'POST' | 'DELETE' | 'PUT',
  path: '/faults' | '/stats',
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(new URL(path, mock.url), {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: res.status, body: await res.json() };
}

/** `_entities` representations for products "1".."n". */
export function productReps(n: number): { __typename: 'Product'; id: string }[] {
  return Array.from({ length: n }, (_, i) => ({ __typename: 'Product' as const, id: String(i + 1) }));
}
