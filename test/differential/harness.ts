/**
 * The differential harness: an oracle process (bare @apollo/gateway), the schema the generator
 * walks (introspected from the oracle, so it is the API schema both gateways serve), and the
 * comparison of two answers to the same request.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClientSchema, getIntrospectionQuery, type GraphQLSchema, type IntrospectionQuery } from 'graphql';
import { spawnTsx } from '../../devkit/processes.ts';
import { startPortico, type RunningPortico } from '../helpers/portico.ts';

/** What one gateway answered: HTTP status and the JSON body. */
export interface Answer {
  /** 0 when no HTTP answer came (see `failed`). */
  readonly status: number;
  readonly body: { data?: unknown; errors?: readonly { message: string; extensions?: Record<string, unknown> }[]; extensions?: unknown };
  /** Why there is no answer (connection error, client timeout, a body that is not JSON). */
  readonly failed?: string;
}

/** One request as sent to both gateways. */
export interface Operation {
  /** How a failure names it: `generated #17`, `hand-written product page`, … */
  readonly name: string;
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>>;
  readonly operationName?: string;
  /**
   * Sent to Portico as an automatic persisted query (hash alone, then registered with its text,
   * then by hash again; the last answer is compared), to the oracle as plain text.
   */
  readonly viaApq?: boolean;
}

export interface Oracle {
  readonly graphqlUrl: string;
  stop(): Promise<void>;
}

/** Bounded start: a gateway that cannot plan the supergraph never prints its URL. */
const ORACLE_START_TIMEOUT_MS = 30_000;

/**
 * Starts the oracle (./oracle.ts) on a free loopback port.
 * @param supergraphPath the same file Portico loads.
 * @param urlOverrides subgraph name → URL, as given to Portico (PORTICO_SUBGRAPH_URLS).
 */
export async function startOracle(supergraphPath: string, urlOverrides: Readonly<Record<string, string>> = {}): Promise<Oracle> {
  const proc = spawnTsx({
    name: 'oracle',
    args: [new URL('./oracle.ts', import.meta.url).pathname],
    env: {
      ...process.env,
      NODE_ENV: 'test',
      ORACLE_SUPERGRAPH_PATH: supergraphPath,
      ORACLE_SUBGRAPH_URLS: JSON.stringify(urlOverrides),
    },
  });
  try {
    const [, url] = await proc.waitForOutput(/ORACLE_READY (\S+)\n/, ORACLE_START_TIMEOUT_MS);
    return {
      graphqlUrl: url!,
      async stop() {
        await proc.stop();
      },
    };
  } catch (err) {
    await proc.stop(0);
    throw err;
  }
}

/** Writes a supergraph to a fresh temporary file, for both gateways to load. */
export async function writeSupergraph(name: string, sdl: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `portico-diff-${name}-`));
  const file = join(dir, 'supergraph.graphql');
  await writeFile(file, sdl);
  return file;
}

/** Bounds one request: the slowest plans seen take seconds on a loaded two-core machine. */
const REQUEST_TIMEOUT_MS = 30_000;

/** POSTs one operation; a non-JSON answer is reported as such rather than thrown. */
export async function send(graphqlUrl: string, op: Operation): Promise<Answer> {
  return post(graphqlUrl, { query: op.query, variables: op.variables ?? {}, ...(op.operationName ? { operationName: op.operationName } : {}) });
}

/**
 * The APQ exchange a client makes: the hash alone (must be unknown), the hash with the text
 * (registers and runs it), the hash alone again (runs the stored text). Answers with the last
 * one, or with the first answer that is not what the exchange expects.
 */
export async function sendPersisted(graphqlUrl: string, op: Operation): Promise<Answer> {
  const extensions = { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(op.query).digest('hex') } };
  const common = { variables: op.variables ?? {}, extensions, ...(op.operationName ? { operationName: op.operationName } : {}) };
  const unknown = await post(graphqlUrl, common);
  if (unknown.body.errors?.[0]?.extensions?.['code'] !== 'PERSISTED_QUERY_NOT_FOUND') return unknown;
  const registered = await post(graphqlUrl, { ...common, query: op.query });
  if (registered.status !== 200) return registered;
  return post(graphqlUrl, common);
}

/** Never throws: a request that gets no JSON answer is an answer with `failed` set, judged a difference. */
async function post(graphqlUrl: string, body: Record<string, unknown>): Promise<Answer> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    text = await res.text();
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { status: 0, body: {}, failed: `${String(err)}${cause}` };
  }
  try {
    return { status: res.status, body: JSON.parse(text) as Answer['body'] };
  } catch {
    return { status: res.status, body: {}, failed: `non-JSON answer: ${text.slice(0, 200)}` };
  }
}

/** The API schema a gateway serves, by introspection (both gateways allow it outside production). */
export async function fetchApiSchema(graphqlUrl: string): Promise<GraphQLSchema> {
  const answer = await send(graphqlUrl, { name: 'introspection', query: getIntrospectionQuery() });
  if (answer.body.errors !== undefined || answer.body.data == null) throw new Error(`introspection failed: ${JSON.stringify(answer.body).slice(0, 500)}`);
  return buildClientSchema(answer.body.data as IntrospectionQuery);
}

const hasErrors = (a: Answer): boolean => (a.body.errors?.length ?? 0) > 0;
const codes = (a: Answer): string[] => (a.body.errors ?? []).map((e) => String(e.extensions?.['code'] ?? '?'));

/** A pair of answers that differ in `data` or in whether there were errors. */
export interface Difference {
  readonly op: Operation;
  readonly portico: Answer;
  readonly oracle: Answer;
}

/** Portico refused a query the oracle answered, only because of its cost estimate. */
export interface CostRefusal {
  readonly op: Operation;
  /** Portico's estimate (`extensions.measured`). */
  readonly estimated: number;
  /** Objects in the oracle's answer: what the query really cost, to set beside the estimate. */
  readonly actualObjects: number;
}

export interface Comparison {
  /** Operations whose answers were compared (cost refusals excluded). */
  readonly compared: number;
  readonly differences: readonly Difference[];
  readonly costRefusals: readonly CostRefusal[];
  /** Compared operations where both answered with errors (same presence, counted for coverage). */
  readonly bothErrored: number;
}

/** Objects (JSON objects, not scalars or lists) in a response's `data`. */
export function countObjects(value: unknown): number {
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + countObjects(v), 0);
  if (value !== null && typeof value === 'object') return 1 + Object.values(value).reduce<number>((n, v) => n + countObjects(v), 0);
  return 0;
}

/**
 * The verdict on one pair. `data` must be identical, key order included (it is the selection
 * order, part of the response); errors must be present in both or in neither. Their messages,
 * paths and extensions may differ: Portico codes and masks errors by design.
 */
export function judge(op: Operation, portico: Answer, oracle: Answer): { kind: 'same' } | { kind: 'different'; difference: Difference } | { kind: 'costRefusal'; refusal: CostRefusal } {
  // No answer on either side is never "the same": it would hide a broken harness.
  if (portico.failed !== undefined || oracle.failed !== undefined) return { kind: 'different', difference: { op, portico, oracle } };
  const refusedForCost = portico.body.data === undefined && codes(portico).length === 1 && codes(portico)[0] === 'QUERY_TOO_COMPLEX';
  if (refusedForCost) {
    const measured = Number(portico.body.errors?.[0]?.extensions?.['measured']);
    return { kind: 'costRefusal', refusal: { op, estimated: measured, actualObjects: countObjects(oracle.body.data) } };
  }
  const same = JSON.stringify(portico.body.data ?? null) === JSON.stringify(oracle.body.data ?? null) && hasErrors(portico) === hasErrors(oracle);
  return same ? { kind: 'same' } : { kind: 'different', difference: { op, portico, oracle } };
}

/**
 * Sends every operation to both gateways (the two at once, `concurrency` operations in flight)
 * and judges each pair. Three in flight by default: planning runs on each gateway's event loop,
 * and on a two-core machine more in flight only lengthens the stalls that other requests'
 * subgraph calls wait through (Portico's timeouts and deadline count them).
 */
export async function compareAll(ops: readonly Operation[], targets: { portico: string; oracle: string }, concurrency = 3): Promise<Comparison> {
  const verdicts: { verdict: ReturnType<typeof judge>; errored: boolean }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < ops.length) {
      const i = next++;
      const op = ops[i]!;
      const [portico, oracle] = await Promise.all([op.viaApq ? sendPersisted(targets.portico, op) : send(targets.portico, op), send(targets.oracle, op)]);
      verdicts[i] = { verdict: judge(op, portico, oracle), errored: hasErrors(portico) };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // In operation order, whatever order they finished in: a replayed run reads the same.
  const differences: Difference[] = [];
  const costRefusals: CostRefusal[] = [];
  let bothErrored = 0;
  for (const { verdict, errored } of verdicts) {
    if (verdict.kind === 'costRefusal') costRefusals.push(verdict.refusal);
    else if (verdict.kind === 'different') differences.push(verdict.difference);
    else if (errored) bothErrored += 1;
  }
  return { compared: verdicts.length - costRefusals.length, differences, costRefusals, bothErrored };
}

const clip = (value: unknown, max = 1_500): string => {
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
};

/** A difference as a failure message: the operation, its variables, both answers. */
export function describeDifference(d: Difference): string {
  return [
    `--- ${d.op.name}${d.op.viaApq ? ' (to Portico as a persisted query)' : ''}`,
    d.op.query,
    `variables: ${JSON.stringify(d.op.variables ?? {})}`,
    `portico (HTTP ${d.portico.status}): ${d.portico.failed ?? clip(d.portico.body)}`,
    `oracle  (HTTP ${d.oracle.status}): ${d.oracle.failed ?? clip(d.oracle.body)}`,
  ].join('\n');
}

export function describeCostRefusal(r: CostRefusal): string {
  return `${r.op.name}: estimated ${r.estimated}, the oracle's answer holds ${r.actualObjects} objects\n${r.op.query.replace(/\s+/g, ' ').trim()}\nvariables: ${JSON.stringify(r.op.variables ?? {})}`;
}

/**
 * Portico's defaults, all features on, no faults, with two exceptions:
 * - the anonymous quota is raised: hundreds of operations from one client in a few seconds
 *   would otherwise be a rate-limit test;
 * - the subgraph timeout (2 s) and the request deadline (5 s) are raised far above any stall.
 *   This suite compares answers, not timing (the chaos suite holds the timeouts), and on two
 *   busy cores planning a deep abstract query can stall Portico's event loop long enough that a
 *   healthy subgraph call "times out" while the oracle, which has no timeout, answers in full
 *   (seen once in CI: seed 1768956722, `SUBGRAPH_TIMEOUT` on people after 2000 ms).
 *
 * `PORTICO_EXECUTOR` from the test's environment selects the plan executor Portico runs
 * (`portico` or `apollo`; unset: the default), so the suite holds either one to the oracle.
 */
export const PORTICO_ENV = {
  PORTICO_RATE_LIMITS: 'anonymous=1000000/1m',
  PORTICO_SUBGRAPH_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS - 10_000),
  PORTICO_REQUEST_DEADLINE_MS: String(REQUEST_TIMEOUT_MS - 5_000),
  PORTICO_EXECUTOR: process.env['PORTICO_EXECUTOR'],
};

/** Portico (on {@link PORTICO_ENV}) and the oracle, side by side on one supergraph written to a file. */
export interface Pair {
  readonly gw: RunningPortico;
  readonly oracle: Oracle;
  stop(): Promise<void>;
}

export async function startPair(name: string, supergraphSdl: string): Promise<Pair> {
  const file = await writeSupergraph(name, supergraphSdl);
  const [gw, oracle] = await Promise.all([startPortico({ ...PORTICO_ENV, PORTICO_SUPERGRAPH_PATH: file }), startOracle(file)]);
  return {
    gw,
    oracle,
    async stop() {
      await oracle.stop();
      await gw.stop();
    },
  };
}
