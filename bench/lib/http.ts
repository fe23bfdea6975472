/** Small loopback HTTP helpers for the harness (readiness, golden checks, probes, fault switch). */

export interface TextResponse {
  readonly status: number;
  readonly text: string;
}

/** Per-call timeout of harness-side requests, in ms: far above any healthy answer. */
const REQUEST_TIMEOUT_MS = 15_000;

export async function postJson(url: string, body: string, headers: Record<string, string> = {}): Promise<TextResponse> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: res.status, text: await res.text() };
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}
