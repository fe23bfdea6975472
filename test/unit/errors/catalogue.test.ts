import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalogueEntry, codesOn, ERROR_CATALOGUE, ErrorCode, refusalStatusOf, type Listener } from '../../../src/errors/catalogue.ts';
import { PorticoError } from '../../../src/errors/porticoError.ts';
import { refusalBody } from '../../../src/errors/refusal.ts';
import { OperationLimitError } from '../../../src/hardening/errors.ts';

/** The doc's section for each listener. */
const SECTIONS: Readonly<Record<Listener, string>> = { graphql: 'On the GraphQL endpoint', ops: 'On the ops listener' };

/** `code → statuses` of the table under `## <heading>` in docs/errors.md. */
function documented(heading: string): Map<string, number[]> {
  const doc = readFileSync('docs/errors.md', 'utf8');
  const start = doc.indexOf(`\n## ${heading}\n`);
  expect(start, `docs/errors.md has a "## ${heading}" section`).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf('\n## ', start + 1);
  const rows = new Map<string, number[]>();
  for (const line of doc.slice(start, end < 0 ? undefined : end).split('\n')) {
    const cells = line.split(' | ');
    const codes = [...(cells[0] ?? '').matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1]!);
    if (!line.startsWith('| `') || codes.length === 0) continue;
    expect(codes, `one code per row: ${line.slice(0, 60)}`).toHaveLength(1);
    rows.set(codes[0]!, [...(cells[1] ?? '').matchAll(/\b[1-5]\d\d\b/g)].map((m) => Number(m[0])));
  }
  return rows;
}

const sorted = (statuses: readonly number[]) => [...statuses].sort((a, b) => a - b);

describe('the error catalogue', () => {
  it('spells every code as itself, one entry each', () => {
    expect(Object.keys(ErrorCode)).toEqual(Object.keys(ERROR_CATALOGUE));
    for (const [name, code] of Object.entries(ErrorCode)) expect(code).toBe(name);
  });

  it('gives every code a listener, statuses, a meaning and an action', () => {
    for (const code of Object.values(ErrorCode)) {
      const entry = catalogueEntry(code);
      const statuses = [...(entry.graphql ?? []), ...(entry.ops ?? [])];
      expect(statuses.length, code).toBeGreaterThan(0);
      for (const status of statuses) expect(status >= 200 && status < 600, `${code} ${status}`).toBe(true);
      expect(entry.meaning.length, code).toBeGreaterThan(10);
      expect(entry.action.length, code).toBeGreaterThan(5);
    }
  });

  for (const listener of ['graphql', 'ops'] as const) {
    it(`docs/errors.md lists every ${listener} code with its statuses, and nothing else`, () => {
      const rows = documented(SECTIONS[listener]);
      const expected = new Map(codesOn(listener).map((code) => [code, sorted(catalogueEntry(code)[listener]!)]));
      expect(new Map([...rows].map(([code, statuses]) => [code, sorted(statuses)]))).toEqual(expected);
    });
  }
});

describe('refusalBody', () => {
  it('is the GraphQL error body clients have always been sent, code first', () => {
    expect(JSON.stringify(refusalBody(ErrorCode.UNAUTHENTICATED, 'token expired'))).toBe(
      '{"errors":[{"message":"token expired","extensions":{"code":"UNAUTHENTICATED"}}]}',
    );
    expect(JSON.stringify(refusalBody(ErrorCode.RATE_LIMITED, 'slow down', { retryAfter: 3, tier: 'free' }))).toBe(
      '{"errors":[{"message":"slow down","extensions":{"code":"RATE_LIMITED","retryAfter":3,"tier":"free"}}]}',
    );
  });
});

describe('PorticoError', () => {
  it("defaults its HTTP status to the catalogue's refusal status", () => {
    expect(new PorticoError('no', ErrorCode.PERSISTED_QUERY_NOT_IN_LIST).httpStatus).toBe(400);
    expect(new PorticoError('no', ErrorCode.FORBIDDEN).extensions).toEqual({ code: 'FORBIDDEN', http: { status: 403 } });
    expect(refusalStatusOf(ErrorCode.INTERNAL_SERVER_ERROR)).toBe(500);
    expect(new PorticoError('no', ErrorCode.UNAUTHENTICATED, 401, { fields: ['Query.me'] }).extensions).toEqual({
      code: 'UNAUTHENTICATED',
      fields: ['Query.me'],
      http: { status: 401 },
    });
  });

  it('is the base of the operation-limit error, whose extensions keep their order', () => {
    const err = new OperationLimitError(ErrorCode.QUERY_TOO_DEEP, 13, 12, 'too deep');
    expect(err).toBeInstanceOf(PorticoError);
    expect(err.name).toBe('OperationLimitError');
    expect(err.httpStatus).toBe(400);
    expect(JSON.stringify(err.extensions)).toBe('{"code":"QUERY_TOO_DEEP","measured":13,"limit":12,"http":{"status":400}}');
  });
});
