/**
 * The one fault switch every mock subgraph shares: latency, CPU per answer, injected HTTP
 * errors, hang, refuse and garbage, set at start (options or env) and at run time (`/faults`).
 *
 * This module holds the switch's state, its validation and the per-request decision, plus the
 * bytes an injected fault answers with. The HTTP wiring that applies a decision lives in
 * `server.ts`. Control endpoints (`/faults`, `/stats`) are never faulted, so a broken mock can
 * always be inspected and repaired.
 */
import type { ServerResponse } from 'node:http';

/**
 * - `ok`: answer normally (latency and errorRate still apply).
 * - `hang`: read nothing, answer nothing; the request stays open until the client gives up.
 * - `refuse`: reset the connection (TCP RST) as soon as the request arrives. The port keeps
 *   accepting connections, because `/faults` on the same port must stay reachable to undo it;
 *   clients therefore see ECONNRESET / "socket hang up", not ECONNREFUSED.
 * - `garbage`: `200` with `application/json` whose body is truncated, invalid JSON.
 * - `graphql-error`: `200` with a well-formed GraphQL error response (`data: null`): the
 *   subgraph is up and answering, so this must never open a breaker.
 * - `huge`: `200` declaring and streaming a {@link HUGE_BODY_BYTES} JSON body (a runaway list,
 *   as a real GraphQL server would send it: with its content-length).
 * - `huge-chunked`: the same body chunked, without a content-length: only counting what arrives
 *   can bound it.
 * - `endless`: `200` and a JSON body that starts and never ends (a chunk every 100 ms).
 */
export type FaultMode = 'ok' | 'hang' | 'refuse' | 'garbage' | 'graphql-error' | 'huge' | 'huge-chunked' | 'endless';

export const FAULT_MODES: readonly FaultMode[] = ['ok', 'hang', 'refuse', 'garbage', 'graphql-error', 'huge', 'huge-chunked', 'endless'];

/** What `huge` sends: 50 MB, far above any sane subgraph answer (and the gateway's limit). */
export const HUGE_BODY_BYTES = 50 * 1_000_000;

/** The whole fault configuration of one mock. */
export interface FaultState {
  /** Delay before answering, in ms; 0..{@link MAX_LATENCY_MS}. */
  latencyMs: number;
  /**
   * CPU burnt (a busy loop) before answering, in ms; 0..{@link MAX_CPU_MS}. A costly resolver:
   * unlike `latencyMs` it holds the mock's process, and so the gateway's event loop when both
   * run in one process (tests pushing an instance past its CPU capacity).
   */
  cpuMs: number;
  /** Fraction 0..1 of requests answered with {@link httpStatus}; spread evenly, deterministic. */
  errorRate: number;
  /** Status of injected errors, 400..599. 502/503 answer HTML, others a JSON GraphQL error. */
  httpStatus: number;
  mode: FaultMode;
}

/** A healthy mock. */
export const DEFAULT_FAULTS: Readonly<FaultState> = Object.freeze({
  latencyMs: 0,
  cpuMs: 0,
  errorRate: 0,
  httpStatus: 500,
  mode: 'ok',
});

/** Upper bound on injected latency: far above any gateway timeout, low enough to catch typos (s vs ms). */
export const MAX_LATENCY_MS = 120_000;

/** Upper bound on CPU burnt per answer: a costly resolver, not a wedged process. */
export const MAX_CPU_MS = 1_000;

/** Env var read at start for a mock's faults, e.g. `PORTICO_MOCK_PRICING_FAULTS='{"latencyMs":80}'`. */
export function faultsEnvVar(mockName: string): string {
  return `PORTICO_MOCK_${mockName.toUpperCase()}_FAULTS`;
}

/** Thrown for fault settings that fail validation; `problems` lists each one. */
export class FaultInputError extends Error {
  override readonly name = 'FaultInputError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid fault settings: ${problems.join('; ')}`);
  }
}

const KNOWN_KEYS = new Set<string>(Object.keys(DEFAULT_FAULTS));

/**
 * Validates partial fault settings and merges them onto {@link DEFAULT_FAULTS} (not onto the
 * current state: every update describes the whole fault, which keeps tests order-independent).
 * `httpStatus` given without `errorRate` means every request gets that status.
 * @throws FaultInputError naming every problem (unknown key, wrong type, out of range).
 */
export function parseFaultInput(input: unknown): FaultState {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new FaultInputError(['expected a JSON object like {"latencyMs":100,"errorRate":0.5,"httpStatus":503,"mode":"ok"}']);
  }
  const given = input as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(given)) {
    if (!KNOWN_KEYS.has(key)) problems.push(`unknown key "${key}" (allowed: ${[...KNOWN_KEYS].join(', ')})`);
  }
  const { latencyMs, cpuMs, errorRate, httpStatus, mode } = given;
  const got = (v: unknown): string => JSON.stringify(v) ?? String(v);
  if (latencyMs !== undefined && !(Number.isInteger(latencyMs) && (latencyMs as number) >= 0 && (latencyMs as number) <= MAX_LATENCY_MS)) {
    problems.push(`latencyMs must be an integer 0..${MAX_LATENCY_MS} (ms), got ${got(latencyMs)}`);
  }
  if (cpuMs !== undefined && !(Number.isInteger(cpuMs) && (cpuMs as number) >= 0 && (cpuMs as number) <= MAX_CPU_MS)) {
    problems.push(`cpuMs must be an integer 0..${MAX_CPU_MS} (ms), got ${got(cpuMs)}`);
  }
  if (errorRate !== undefined && !(typeof errorRate === 'number' && errorRate >= 0 && errorRate <= 1)) {
    problems.push(`errorRate must be a number 0..1, got ${got(errorRate)}`);
  }
  if (httpStatus !== undefined && !(Number.isInteger(httpStatus) && (httpStatus as number) >= 400 && (httpStatus as number) <= 599)) {
    problems.push(`httpStatus must be an integer 400..599, got ${got(httpStatus)}`);
  }
  if (mode !== undefined && !FAULT_MODES.includes(mode as FaultMode)) {
    problems.push(`mode must be one of ${FAULT_MODES.join(', ')}, got ${got(mode)}`);
  }
  if (problems.length > 0) throw new FaultInputError(problems);

  return {
    latencyMs: (latencyMs as number | undefined) ?? DEFAULT_FAULTS.latencyMs,
    cpuMs: (cpuMs as number | undefined) ?? DEFAULT_FAULTS.cpuMs,
    errorRate: (errorRate as number | undefined) ?? (httpStatus !== undefined ? 1 : DEFAULT_FAULTS.errorRate),
    httpStatus: (httpStatus as number | undefined) ?? DEFAULT_FAULTS.httpStatus,
    mode: (mode as FaultMode | undefined) ?? DEFAULT_FAULTS.mode,
  };
}

/**
 * Reads `PORTICO_MOCK_<NAME>_FAULTS`.
 * @returns the validated state, or undefined when the variable is unset or empty.
 * @throws FaultInputError naming the variable, when it is not valid JSON or not valid settings.
 */
export function faultsFromEnv(mockName: string, env: NodeJS.ProcessEnv = process.env): FaultState | undefined {
  const variable = faultsEnvVar(mockName);
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new FaultInputError([`${variable} is not valid JSON: ${raw}`]);
  }
  try {
    return parseFaultInput(parsed);
  } catch (err) {
    if (err instanceof FaultInputError) throw new FaultInputError(err.problems.map((p) => `${variable}: ${p}`));
    throw err;
  }
}

/** What to do with one faultable request. */
export type FaultAction =
  | { readonly kind: 'refuse' }
  | { readonly kind: 'hang' }
  | { readonly kind: 'graphql-error' }
  | { readonly kind: 'huge'; readonly declared: boolean }
  | { readonly kind: 'endless' }
  | {
      readonly kind: 'answer';
      /** Wait this long first (ms). */
      readonly delayMs: number;
      /** Then keep the CPU busy this long (ms). */
      readonly cpuMs: number;
      /** Answer this injected status instead of executing; undefined = no injected error. */
      readonly injectStatus: number | undefined;
      /** Answer truncated JSON instead of executing. */
      readonly garbage: boolean;
    };

const PASS: FaultAction = Object.freeze({ kind: 'answer', delayMs: 0, cpuMs: 0, injectStatus: undefined, garbage: false });

// Guards floor(n × rate) against float error, e.g. 3 × 0.1 = 0.30000000000000004.
const RATE_EPSILON = 1e-9;

/** One mock's fault switch. State changes take effect on the next request. */
export class FaultSwitch {
  private state: FaultState;
  // Requests decided since the last state change; errorRate is applied as floor(n × rate) so
  // that exactly that fraction fails, evenly spread, with no randomness to make tests flaky.
  private decided = 0;
  private readonly listeners: ((state: FaultState) => void)[] = [];

  /** @param initial partial settings merged onto the defaults; validated like {@link set}. */
  constructor(initial?: Partial<FaultState>) {
    this.state = initial === undefined ? { ...DEFAULT_FAULTS } : parseFaultInput(initial);
  }

  /** The current settings (a copy). */
  get(): FaultState {
    return { ...this.state };
  }

  /**
   * Replaces the settings with `input` merged onto the defaults.
   * @throws FaultInputError when `input` is invalid; the current settings are then kept.
   */
  set(input: Partial<FaultState>): FaultState {
    this.state = parseFaultInput(input);
    this.decided = 0;
    return this.changed();
  }

  /** Back to a healthy mock. */
  reset(): FaultState {
    this.state = { ...DEFAULT_FAULTS };
    this.decided = 0;
    return this.changed();
  }

  /**
   * Called with the new settings on every change, before `/faults` answers (the demo launcher
   * drops what the gateway cached from this mock, so an injected fault shows on the next page).
   */
  onChange(listener: (state: FaultState) => void): void {
    this.listeners.push(listener);
  }

  private changed(): FaultState {
    const state = this.get();
    for (const l of this.listeners) l(state);
    return state;
  }

  /** Decides the fate of the next faultable request; call exactly once per request. */
  next(): FaultAction {
    const s = this.state;
    switch (s.mode) {
      case 'refuse':
        return { kind: 'refuse' };
      case 'hang':
        return { kind: 'hang' };
      case 'graphql-error':
        return { kind: 'graphql-error' };
      case 'huge':
        return { kind: 'huge', declared: true };
      case 'huge-chunked':
        return { kind: 'huge', declared: false };
      case 'endless':
        return { kind: 'endless' };
      case 'ok':
      case 'garbage': {
        if (s.mode === 'ok' && s.latencyMs === 0 && s.cpuMs === 0 && s.errorRate === 0) return PASS;
        this.decided += 1;
        const failed =
          Math.floor(this.decided * s.errorRate + RATE_EPSILON) > Math.floor((this.decided - 1) * s.errorRate + RATE_EPSILON);
        return {
          kind: 'answer',
          delayMs: s.latencyMs,
          cpuMs: s.cpuMs,
          injectStatus: failed ? s.httpStatus : undefined,
          garbage: s.mode === 'garbage' && !failed,
        };
      }
    }
  }
}

/** Statuses answered with an HTML page, as a proxy or load balancer in front of a subgraph would. */
const HTML_STATUS_TEXT: Readonly<Record<number, string>> = { 502: 'Bad Gateway', 503: 'Service Unavailable' };

const INJECTED_ERROR_JSON = JSON.stringify({ errors: [{ message: 'injected fault' }] });

/** A GraphQL response cut off mid-value: valid HTTP, invalid JSON. */
const GARBAGE_BODY = '{"data":{"product":{"id":"1","name":"Trunc';

/** Writes the injected error response for `status`. */
export function writeInjectedError(res: ServerResponse, status: number): void {
  const text = HTML_STATUS_TEXT[status];
  if (text !== undefined) {
    const html = `<html><body><h1>${status} ${text}</h1></body></html>`;
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
    res.end(html);
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(INJECTED_ERROR_JSON) });
  res.end(INJECTED_ERROR_JSON);
}

const GRAPHQL_ERROR_BODY = JSON.stringify({ data: null, errors: [{ message: 'injected GraphQL error', extensions: { code: 'INJECTED' } }] });

/** Writes a 200 carrying a GraphQL error: HTTP and JSON are fine, the operation failed. */
export function writeGraphqlError(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(GRAPHQL_ERROR_BODY) });
  res.end(GRAPHQL_ERROR_BODY);
}

const FILLER = Buffer.alloc(64 * 1024, 0x61);

const STREAM_HEAD = '{"data":{"filler":"';
const STREAM_TAIL = '"}}';

/**
 * Streams a 200 JSON body of about `bytes` (with its content-length when `declared`, else
 * chunked), or one that never ends when `bytes` is infinite. Stops when the client leaves.
 */
export async function writeStream(res: ServerResponse, bytes: number, declared = false): Promise<void> {
  const chunks = Math.ceil(bytes / FILLER.length);
  res.writeHead(200, {
    'content-type': 'application/json',
    ...(declared && Number.isFinite(bytes) ? { 'content-length': STREAM_HEAD.length + chunks * FILLER.length + STREAM_TAIL.length } : {}),
  });
  res.write(STREAM_HEAD);
  let sent = 0;
  const endless = !Number.isFinite(bytes);
  while (!res.destroyed && (endless || sent < bytes)) {
    const ok = res.write(FILLER);
    sent += FILLER.length;
    if (endless) await new Promise((r) => setTimeout(r, 100));
    else if (!ok) await drainedOrClosed(res);
  }
  if (!res.destroyed) res.end(STREAM_TAIL);
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Writes a 200 whose JSON body is truncated (with a matching content-length, so HTTP is intact). */
export function writeGarbage(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(GARBAGE_BODY) });
  res.end(GARBAGE_BODY);
}
