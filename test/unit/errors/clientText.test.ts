import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { boundClientMessage, clientInputPrefix, MAX_CLIENT_MESSAGE_CHARS, MAX_ECHOED_INPUT_CHARS } from '../../../src/errors/clientText.ts';
import { ErrorCode } from '../../../src/errors/catalogue.ts';
import { unresolvedOperationError } from '../../../src/errors/requestErrors.ts';

describe('clientInputPrefix', () => {
  it('keeps short input, cuts long input with a mark', () => {
    expect(clientInputPrefix('GetProducts')).toBe('GetProducts');
    expect(clientInputPrefix('X'.repeat(100_000))).toBe(`${'X'.repeat(MAX_ECHOED_INPUT_CHARS)}…`);
    expect(clientInputPrefix('abcdef', 3)).toBe('abc…');
  });

  it('shows control, separator and bidi characters as ?', () => {
    expect(clientInputPrefix('A\u0000B\u001b[31m\r\n\u007f\u0085\u2028\u202e\u2066')).toBe('A?B?[31m???????');
  });

  it('never splits a surrogate pair', () => {
    expect(clientInputPrefix('😀😀😀', 2)).toBe('😀😀…');
  });
});

describe('boundClientMessage', () => {
  it('leaves ordinary messages alone', () => {
    for (const m of ['Cannot query field "nope" on type "Query".', '[pricing] connection refused; Product.price returned as null', 'token expired']) {
      expect(boundClientMessage(m)).toBe(m);
    }
  });

  it('cuts every long quoted piece of input, and the whole', () => {
    const long = 'Y'.repeat(10_000);
    const out = boundClientMessage(`Variable "$n" got invalid value "${long}"; Int cannot represent non-integer value: "${long}"`);
    expect(out).toBe(`Variable "$n" got invalid value "${'Y'.repeat(MAX_ECHOED_INPUT_CHARS)}…"; Int cannot represent non-integer value: "${'Y'.repeat(MAX_ECHOED_INPUT_CHARS)}…"`);
    expect(boundClientMessage('Z'.repeat(10_000))).toHaveLength(MAX_CLIENT_MESSAGE_CHARS + 1);
  });

  it('does not let a cut escape swallow the closing quote', () => {
    const out = boundClientMessage(`got "${'a'.repeat(MAX_ECHOED_INPUT_CHARS - 1)}\\"${'b'.repeat(100)}"`);
    expect(out).toBe(`got "${'a'.repeat(MAX_ECHOED_INPUT_CHARS - 1)}…"`);
  });

  it('shows control characters as ?', () => {
    expect(boundClientMessage('bad\u0000name\nhere')).toBe('bad?name?here');
  });
});

describe('unresolvedOperationError', () => {
  const one = parse('query A { a }');
  const two = parse('query A { a } query B { b }');

  it('names what is wrong, with the right code and a 400', () => {
    const cases: Array<[ReturnType<typeof parse>, string | null | undefined, string, RegExp]> = [
      [two, undefined, ErrorCode.OPERATION_RESOLUTION_FAILURE, /holds 2 operations: send operationName/],
      [two, null, ErrorCode.OPERATION_RESOLUTION_FAILURE, /holds 2 operations/],
      [one, 'B', ErrorCode.OPERATION_RESOLUTION_FAILURE, /^no operation named "B" in the document$/],
      [one, '', ErrorCode.INVALID_OPERATION_NAME, /operationName is empty/],
      [one, 'A\u0000', ErrorCode.INVALID_OPERATION_NAME, /^operationName "A\?" is not a GraphQL name/],
      [one, '1A', ErrorCode.INVALID_OPERATION_NAME, /not a GraphQL name/],
    ];
    for (const [doc, name, code, message] of cases) {
      const err = unresolvedOperationError(doc, name);
      expect(err.extensions).toMatchObject({ code, http: { status: 400 } });
      expect(err.message).toMatch(message);
    }
  });

  it('quotes at most a short prefix of the name', () => {
    const err = unresolvedOperationError(one, 'X'.repeat(100_000));
    expect(err.message.length).toBeLessThan(MAX_ECHOED_INPUT_CHARS + 40);
  });
});
