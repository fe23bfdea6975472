/**
 * Steady, bounded load for the cluster tests: an open-loop request schedule (a fixed rate,
 * whatever the latency, like real clients), capped in flight, every response recorded and
 * checked. Open loop matters here: a closed loop slows down when the system does and hides
 * exactly the failures these tests look for.
 */

import { Agent, fetch } from 'undici';

/**
 * The load client's connections to HAProxy: idle ones are dropped after 1 s, far inside HAProxy's
 * `timeout http-keep-alive 5s`. On a saturated CI machine the client's own timers run late; with
 * Node's default (4 s) it could send on a connection HAProxy had just closed and count that as a
 * gateway failure. Real clients retry such a request; this one must not need to.
 */
const clientAgent = new Agent({ keepAliveTimeout: 1_000, keepAliveMaxTimeout: 1_000 });

/** Requests in flight at most; beyond it a due request is counted as `shed`, not sent. */
export const DEFAULT_MAX_IN_FLIGHT = 256;
/** A request not answered within this is a failure. Above the gateway's 5 s deadline. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Scheduler tick, ms: requests due since the last tick are sent together. */
const TICK_MS = 5;

export interface LoadRequest {
  readonly method: 'GET' | 'POST';
  /** Absolute URL. */
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Label in the report (e.g. the operation). */
  readonly kind: string;
}

export interface LoadOptions {
  readonly ratePerSecond: number;
  /** The n-th request (0-based). */
  readonly request: (n: number) => LoadRequest;
  /**
   * Inspects a 200 answer; returns what is wrong with it, or undefined. Default
   * {@link expectCleanData}.
   */
  readonly check?: (body: any, req: LoadRequest) => string | undefined;
  readonly maxInFlight?: number;
  readonly timeoutMs?: number;
}

export interface Sample {
  readonly kind: string;
  /** performance.now() when sent, ms. */
  readonly startedAt: number;
  readonly latencyMs: number;
  /** Undefined when no HTTP answer came (connection error, timeout). */
  readonly status: number | undefined;
  readonly error?: string;
  /** What the check found wrong with a 200 answer. */
  readonly problem?: string;
  /** The parsed body of a 200 answer, when the caller asked to keep them (`keepBodies`). */
  readonly body?: unknown;
}

export interface LoadReport {
  readonly sent: number;
  /** 200 answers that passed the check. */
  readonly ok: number;
  /** HTTP answers other than 200. */
  readonly non200: number;
  /** No HTTP answer at all. */
  readonly failures: number;
  /** 200 answers the check refused. */
  readonly problems: number;
  /** Due requests not sent because `maxInFlight` were already open. */
  readonly shed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly durationS: number;
  readonly samples: readonly Sample[];
  /** First few distinct non-200 statuses, errors and problems, for failure messages. */
  readonly examples: readonly string[];
}

export interface RunningLoad {
  /** Requests sent and not answered yet. */
  inFlight(): number;
  /** When the oldest request still unanswered was sent (performance.now() ms); undefined when none is. */
  oldestInFlight(): number | undefined;
  /** The samples of the requests answered (or given up) so far, in the order they ended. */
  samplesSoFar(): readonly Sample[];
  /** Stops sending, waits for what is in flight, and reports. */
  stop(): Promise<LoadReport>;
}

/**
 * Requests {@link warmUp} sends to a fresh instance. Measured on the reference machine (2 cores):
 * a new gateway's first requests of the product-page mix cost several times what they cost later
 * (V8 runs code in its interpreter until it has run often enough to be compiled, in the gateway
 * and in the mocks behind it); under closed-loop load its mean latency falls ~3x over the first
 * 50 requests and levels off after 100-200.
 */
export const DEFAULT_WARM_UP_REQUESTS = 200;
/** Requests in flight at once during a warm-up: concurrent like real traffic, far from overload. */
export const DEFAULT_WARM_UP_CONCURRENCY = 4;

/**
 * Warms a fresh instance: `requests` of the product-page mix sent straight to `baseUrl`,
 * `concurrency` at a time, each sent only once an earlier one has been answered. Closed loop on
 * purpose: it takes as long as this machine needs, and adds no more than `concurrency` requests
 * of work at any moment. Rejects on an answer other than 200 (or none): an instance that cannot
 * answer is not ready to be measured.
 */
export async function warmUp(baseUrl: string, options: { requests?: number; concurrency?: number } = {}): Promise<void> {
  const requests = options.requests ?? DEFAULT_WARM_UP_REQUESTS;
  const request = productPageMix(baseUrl);
  let next = 0;
  const worker = async () => {
    while (next < requests) {
      const req = request(next++);
      const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, signal: AbortSignal.timeout(DEFAULT_REQUEST_TIMEOUT_MS), dispatcher: clientAgent });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`warm-up of ${baseUrl}: ${req.kind} answered HTTP ${res.status}: ${text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? DEFAULT_WARM_UP_CONCURRENCY }, worker));
}

/** A 200 answer with data and no errors. */
export function expectCleanData(body: any): string | undefined {
  if (!body || typeof body !== 'object' || body.data == null) return `no data: ${JSON.stringify(body).slice(0, 200)}`;
  if (body.errors?.length) return `errors: ${JSON.stringify(body.errors).slice(0, 300)}`;
  return undefined;
}

export function startLoad(options: LoadOptions & { keepBodies?: boolean }): RunningLoad {
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const check = options.check ?? expectCleanData;
  const samples: Sample[] = [];
  const pending = new Set<Promise<void>>();
  /** Send time of each request in flight, by its number: Map order is send order. */
  const sentAt = new Map<number, number>();
  const began = performance.now();
  let issued = 0;
  let shed = 0;
  let running = true;

  async function send(n: number): Promise<void> {
    const req = options.request(n);
    const startedAt = performance.now();
    try {
      const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, signal: AbortSignal.timeout(timeoutMs), dispatcher: clientAgent });
      const text = await res.text();
      const latencyMs = performance.now() - startedAt;
      if (res.status !== 200) {
        samples.push({ kind: req.kind, startedAt, latencyMs, status: res.status, problem: text.slice(0, 200) });
        return;
      }
      let body: unknown;
      let problem: string | undefined;
      try {
        body = JSON.parse(text);
        problem = check(body, req);
      } catch {
        problem = `not JSON: ${text.slice(0, 100)}`;
      }
      samples.push({ kind: req.kind, startedAt, latencyMs, status: 200, ...(problem ? { problem } : {}), ...(options.keepBodies ? { body } : {}) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      samples.push({ kind: req.kind, startedAt, latencyMs: performance.now() - startedAt, status: undefined, error: cause?.code ?? cause?.message ?? (err as Error).name });
    }
  }

  const loop = (async () => {
    while (running) {
      const due = Math.floor(((performance.now() - began) / 1_000) * options.ratePerSecond) - issued - shed;
      for (let i = 0; i < due; i++) {
        if (pending.size >= maxInFlight) {
          shed++;
          continue;
        }
        const n = issued++;
        sentAt.set(n, performance.now());
        const p = send(n).finally(() => {
          pending.delete(p);
          sentAt.delete(n);
        });
        pending.add(p);
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
  })();

  return {
    inFlight: () => pending.size,
    oldestInFlight: () => sentAt.values().next().value,
    samplesSoFar: () => samples,
    async stop() {
      running = false;
      await loop;
      await Promise.all([...pending]);
      return report(samples, shed, (performance.now() - began) / 1_000);
    },
  };
}

function report(samples: Sample[], shed: number, durationS: number): LoadReport {
  const latencies = samples.filter((s) => s.status !== undefined).map((s) => s.latencyMs).sort((a, b) => a - b);
  const quantile = (q: number) => (latencies.length === 0 ? 0 : latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]!);
  const examples = new Set<string>();
  for (const s of samples) {
    if (examples.size >= 5) break;
    if (s.status === undefined) examples.add(`${s.kind}: no answer (${s.error})`);
    else if (s.status !== 200) examples.add(`${s.kind}: HTTP ${s.status} ${s.problem ?? ''}`);
    else if (s.problem) examples.add(`${s.kind}: ${s.problem}`);
  }
  return {
    sent: samples.length,
    ok: samples.filter((s) => s.status === 200 && !s.problem).length,
    non200: samples.filter((s) => s.status !== undefined && s.status !== 200).length,
    failures: samples.filter((s) => s.status === undefined).length,
    problems: samples.filter((s) => s.status === 200 && s.problem).length,
    shed,
    p50Ms: Math.round(quantile(0.5) * 10) / 10,
    p99Ms: Math.round(quantile(0.99) * 10) / 10,
    maxMs: Math.round((latencies.at(-1) ?? 0) * 10) / 10,
    durationS: Math.round(durationS * 10) / 10,
    samples,
    examples: [...examples],
  };
}

// The product-page mix: what a storefront sends. Every query touches several subgraphs.
const FULL_PAGE = '{ products(first: 5) { id name price { amount currency } inventory { inStock quantity } reviews(first: 3) { id rating body } averageRating } }';
const LISTING = '{ products(first: 2) { id name price { amount } } }';
const PRODUCT = 'query Product($id: ID!) { product(id: $id) { id name description price { amount currency } inventory { inStock } reviews(first: 5) { rating body } } }';
/** Products in the mock catalogue (subgraphs-mock/data.ts, PRODUCT_COUNT). */
const CATALOGUE_SIZE = 1_200;

/**
 * Request n of the product-page mix against `baseUrl`: 40 % full page, 20 % listing, 30 % one
 * product by id, 10 % the full page over GET (retryable by HAProxy, being a query).
 */
/** A GraphQL POST to `baseUrl`/graphql, labelled `kind` in the report. */
export function graphqlPost(baseUrl: string, kind: string, query: string, variables?: Record<string, unknown>): LoadRequest {
  return {
    kind,
    method: 'POST',
    url: `${baseUrl}/graphql`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(variables ? { query, variables } : { query }),
  };
}

export function productPageMix(baseUrl: string): (n: number) => LoadRequest {
  const post = (kind: string, query: string, variables?: Record<string, unknown>) => graphqlPost(baseUrl, kind, query, variables);
  const getPage: LoadRequest = {
    kind: 'page-get',
    method: 'GET',
    url: `${baseUrl}/graphql?query=${encodeURIComponent(FULL_PAGE)}`,
    // CSRF prevention: a GET must carry a header a browser form cannot.
    headers: { 'apollo-require-preflight': 'true' },
  };
  return (n) => {
    const slot = n % 10;
    if (slot < 4) return post('page', FULL_PAGE);
    if (slot < 6) return post('listing', LISTING);
    if (slot < 9) return post('product', PRODUCT, { id: String(1 + ((n * 7919) % CATALOGUE_SIZE)) });
    return getPage;
  };
}
