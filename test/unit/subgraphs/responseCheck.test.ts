import { describe, expect, it } from 'vitest';
import { SubgraphFailure } from '../../../src/resilience/failures.ts';
import { checkResponse } from '../../../src/subgraphs/responseCheck.ts';

function kindOf(status: number, text: string): string | undefined {
  try {
    checkResponse({ status, text });
    return undefined;
  } catch (err) {
    return (err as SubgraphFailure).kind;
  }
}

describe('checkResponse: which answers count as a failure', () => {
  it('passes a GraphQL response on, a 4xx carrying GraphQL errors too', () => {
    expect(checkResponse({ status: 200, text: '{"data":{"a":1}}' })).toEqual({ data: { a: 1 } });
    expect(checkResponse({ status: 400, text: '{"errors":[{"message":"bad"}]}' })).toEqual({ errors: [{ message: 'bad' }] });
  });
  it('5xx, whatever the body', () => {
    expect(kindOf(502, '{"data":null}')).toBe('http_5xx');
  });
  it('a body that is not JSON: http_4xx on a 4xx, bad_body otherwise', () => {
    expect(kindOf(404, 'not found')).toBe('http_4xx');
    expect(kindOf(200, '<html>')).toBe('bad_body');
  });
  it('JSON that is not a GraphQL response', () => {
    expect(kindOf(200, '{"ok":true}')).toBe('bad_body');
    expect(kindOf(200, 'null')).toBe('bad_body');
    expect(kindOf(403, '{"ok":false}')).toBe('http_4xx');
  });
  it('keeps the start of the body for the log only', () => {
    let caught: unknown;
    try {
      checkResponse({ status: 500, text: 'x'.repeat(500) });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SubgraphFailure);
    expect((caught as SubgraphFailure).detail).toHaveLength(200);
    expect((caught as SubgraphFailure).reason).toBe('answered HTTP 500');
  });
});
