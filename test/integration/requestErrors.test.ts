/**
 * A client's mistakes in a GraphQL request answer 400 with a documented code, never 500, quote
 * at most a short sanitized prefix of what was sent, and are recorded as 4xx by the access log
 * and the metrics. Real gateway (production mode: messages as clients there see them) and mocks.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/catalogue.ts';
import { MAX_ECHOED_INPUT_CHARS } from '../../src/errors/clientText.ts';
import { startStack, type Stack } from '../helpers/portico.ts';
import { until } from '../../devkit/wait.ts';

const ONE = 'query A { products(first: 1) { id } }';
const TWO = `${ONE} query B { products(first: 2) { id } }`;
const LONG = 'X'.repeat(100_000);

interface Case {
  name: string;
  body: Record<string, unknown>;
  code: string;
}

const cases: Case[] = [
  { name: 'unknown operationName', body: { query: ONE, operationName: 'B' }, code: ErrorCode.OPERATION_RESOLUTION_FAILURE },
  { name: 'operationName with a NUL byte', body: { query: ONE, operationName: 'A\u0000' }, code: ErrorCode.INVALID_OPERATION_NAME },
  { name: 'operationName with an ANSI escape and a newline', body: { query: ONE, operationName: 'A\u001b[31m\nB' }, code: ErrorCode.INVALID_OPERATION_NAME },
  { name: '100 KB operationName', body: { query: ONE, operationName: LONG }, code: ErrorCode.OPERATION_RESOLUTION_FAILURE },
  { name: '100 KB malformed operationName', body: { query: ONE, operationName: `${LONG}!` }, code: ErrorCode.INVALID_OPERATION_NAME },
  { name: 'empty operationName', body: { query: ONE, operationName: '' }, code: ErrorCode.INVALID_OPERATION_NAME },
  { name: 'several operations, no operationName', body: { query: TWO }, code: ErrorCode.OPERATION_RESOLUTION_FAILURE },
  { name: 'several operations, unknown operationName', body: { query: TWO, operationName: 'C' }, code: ErrorCode.OPERATION_RESOLUTION_FAILURE },
  { name: 'operationName that is not a string', body: { query: ONE, operationName: 5 }, code: ErrorCode.BAD_REQUEST },
  { name: 'APQ hash that does not match the query', body: { query: ONE, extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } } }, code: ErrorCode.BAD_REQUEST },
  { name: 'APQ version 2', body: { query: ONE, extensions: { persistedQuery: { version: 2, sha256Hash: 'abc' } } }, code: ErrorCode.BAD_REQUEST },
  { name: 'syntax error on a 20 KB name', body: { query: `{ ${'Y'.repeat(20_000)} ` }, code: ErrorCode.GRAPHQL_PARSE_FAILED },
  { name: 'unknown 20 KB field name', body: { query: `{ ${'Y'.repeat(20_000)} }` }, code: ErrorCode.GRAPHQL_VALIDATION_FAILED },
  { name: '100 KB variable of the wrong type', body: { query: 'query Q($n: Int!) { products(first: $n) { id } }', variables: { n: LONG } }, code: ErrorCode.BAD_USER_INPUT },
];

async function post(url: string, body: unknown, requestId: string) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': requestId }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> } };
}

describe('GraphQL request errors', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ NODE_ENV: 'production' });
  });
  afterAll(() => s?.stop());

  it.each(cases)('$name → 400 with its code, input quoted at most in part', async ({ body, code, name }) => {
    const r = await post(s.gw.graphqlUrl, body, `req-err-${name.replace(/\W+/g, '-')}`);
    expect(r.status, r.text.slice(0, 300)).toBe(400);
    expect(r.body.errors?.map((e) => e.extensions?.code)).toEqual([code]);
    expect(r.body).not.toHaveProperty('data');
    // The answer stays small and carries no control character, whatever was sent.
    expect(r.text.length).toBeLessThan(1_024);
    expect(r.text).not.toMatch(/\\u00(0|1)[0-9a-f]|\\[nr]/i);
    expect(r.text).not.toContain('X'.repeat(MAX_ECHOED_INPUT_CHARS + 1));
    expect(r.text).not.toContain('Y'.repeat(MAX_ECHOED_INPUT_CHARS + 1));
  });

  it('GET requests get the same answers', async () => {
    const url = `${s.gw.graphqlUrl}?query=${encodeURIComponent(ONE)}&operationName=${encodeURIComponent('A\u0000')}`;
    const res = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors[0].extensions.code).toBe(ErrorCode.INVALID_OPERATION_NAME);
    const two = await fetch(`${s.gw.graphqlUrl}?query=${encodeURIComponent(TWO)}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(two.status).toBe(400);
    expect(((await two.json()) as any).errors[0].extensions.code).toBe(ErrorCode.OPERATION_RESOLUTION_FAILURE);
  });

  it('a named operation of several still runs', async () => {
    const r = await post(s.gw.graphqlUrl, { query: TWO, operationName: 'B' }, 'req-err-ok');
    expect(r.status).toBe(200);
    expect((r.body.data as any).products).toHaveLength(2);
  });

  it('the access log and the metrics record the 4xx, never a 5xx', async () => {
    const ids = ['req-err-log-1', 'req-err-log-2', 'req-err-log-3'];
    await post(s.gw.graphqlUrl, { query: ONE, operationName: 'Nope' }, ids[0]!);
    await post(s.gw.graphqlUrl, { query: TWO }, ids[1]!);
    await post(s.gw.graphqlUrl, { query: ONE, operationName: LONG }, ids[2]!);
    const lines = await until('the access lines', () => {
      const l = s.gw.logs.find((x) => x.event === 'access' && ids.includes(String(x.requestId)));
      return l.length === ids.length ? l : undefined;
    });
    for (const line of lines) expect(line).toMatchObject({ status: 400, operationType: 'none' });
    // Nothing this suite sent was answered or logged as a 5xx.
    expect(s.gw.logs.find((x) => x.event === 'access' && Number(x.status) >= 500)).toEqual([]);

    const registry = s.gw.portico.parts.metrics.registry;
    const http = (await registry.getSingleMetric('portico_http_requests_total')!.get()).values;
    expect(http.find((v) => v.labels.status_class === '4xx')?.value).toBeGreaterThanOrEqual(3);
    expect(http.find((v) => v.labels.status_class === '5xx')).toBeUndefined();
    const errors = (await registry.getSingleMetric('portico_graphql_errors_total')!.get()).values;
    const count = (code: string) => errors.find((v) => v.labels.code === code)?.value ?? 0;
    expect(count(ErrorCode.OPERATION_RESOLUTION_FAILURE)).toBeGreaterThanOrEqual(3);
    expect(count(ErrorCode.INVALID_OPERATION_NAME)).toBeGreaterThanOrEqual(1);
    expect(count('OTHER')).toBe(0);
    expect(count(ErrorCode.INTERNAL_SERVER_ERROR)).toBe(0);
  });

  it('every code used here is documented in docs/errors.md', () => {
    const doc = readFileSync('docs/errors.md', 'utf8');
    for (const { code } of cases) expect(doc).toContain(`\`${code}\``);
  });
});
