import { describe, expect, it } from 'vitest';
import { countObjects, judge, type Answer } from '../../differential/harness.ts';
import { gatedFields } from '../../differential/suite.ts';

const op = { name: 'op', query: '{ a }' };
const ok = (data: unknown): Answer => ({ status: 200, body: { data } });
const withErrors = (data: unknown, code = 'X'): Answer => ({ status: 200, body: { data, errors: [{ message: 'm', extensions: { code } }] } });

describe('judge', () => {
  it('passes identical data with the same presence of errors, whatever the errors say', () => {
    expect(judge(op, ok({ a: [1, { b: null }] }), ok({ a: [1, { b: null }] })).kind).toBe('same');
    expect(judge(op, withErrors({ a: null }, 'SUBGRAPH_ERROR'), withErrors({ a: null }, 'INTERNAL_SERVER_ERROR')).kind).toBe('same');
    expect(judge(op, withErrors(null), { status: 200, body: { data: null, errors: [{ message: 'x' }, { message: 'y' }] } }).kind).toBe('same');
    // No `data` at all and `data: null` say the same thing.
    expect(judge(op, withErrors(undefined), withErrors(null)).kind).toBe('same');
  });

  it('flags different data, key order included, and errors on one side only', () => {
    expect(judge(op, ok({ a: 1 }), ok({ a: 2 })).kind).toBe('different');
    expect(judge(op, ok({ a: 1, b: 2 }), ok({ b: 2, a: 1 })).kind).toBe('different');
    expect(judge(op, ok({ a: null }), withErrors({ a: null })).kind).toBe('different');
  });

  it('never judges a missing answer the same, even when both sides have none', () => {
    const failed: Answer = { status: 0, body: {}, failed: 'TypeError: fetch failed: read ECONNRESET' };
    expect(judge(op, failed, failed).kind).toBe('different');
    expect(judge(op, ok({ a: 1 }), failed).kind).toBe('different');
  });

  it('counts a QUERY_TOO_COMPLEX refusal apart, with the estimate and the real size', () => {
    const refused: Answer = { status: 400, body: { errors: [{ message: 'cost', extensions: { code: 'QUERY_TOO_COMPLEX', measured: 9_000 } }] } };
    expect(judge(op, refused, ok({ a: [{ b: {} }, { b: null }] }))).toEqual({ kind: 'costRefusal', refusal: { op, estimated: 9_000, actualObjects: 4 } });
    // Any other refusal is a difference like any other.
    const deep: Answer = { status: 400, body: { errors: [{ message: 'deep', extensions: { code: 'QUERY_TOO_DEEP' } }] } };
    expect(judge(op, deep, ok({ a: 1 })).kind).toBe('different');
  });
});

describe('countObjects', () => {
  it('counts JSON objects, not lists or scalars', () => {
    expect(countObjects(null)).toBe(0);
    expect(countObjects({ a: 1, b: [{ c: {} }, null, [{}]] })).toBe(4);
  });
});

describe('gatedFields', () => {
  it('lists fields gated by authorization directives, on the field or its type', () => {
    const sdl = `
      type Query { a: Int b: Int @authenticated s: Secret }
      type Secret @requiresScopes(scopes: [["x"]]) { c: Int d: Int }
      interface I { e: Int @policy(policies: [["p"]]) }`;
    expect([...gatedFields(sdl)].sort()).toEqual(['I.e', 'Query.b', 'Secret.c', 'Secret.d']);
  });
});
