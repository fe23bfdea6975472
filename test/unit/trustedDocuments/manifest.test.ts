import { createHash } from 'node:crypto';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../../src/config/index.ts';
import { parseTrustedDocuments, TrustedDocumentsManifestError } from '../../../src/trustedDocuments/manifest.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const A = 'query A { products(first: 1) { id } }';
const B = 'query B($id: ID!) { product(id: $id) { name } }';

function problems(text: string): readonly string[] {
  try {
    parseTrustedDocuments(text);
  } catch (err) {
    if (err instanceof TrustedDocumentsManifestError) return err.problems;
    throw err;
  }
  throw new Error('expected the manifest to be refused');
}

describe('Apollo persisted query list', () => {
  const list = parseTrustedDocuments(
    JSON.stringify({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [
        { id: sha256(A), name: 'A', type: 'query', body: A },
        { id: 'custom-id', name: 'B', type: 'query', body: B },
      ],
    }),
  );

  it('looks texts up by id, by sha256:-prefixed id, and by the sha256 of the text', () => {
    expect(list.format).toBe('apollo');
    expect(list.size).toBe(2);
    expect(list.lookup(sha256(A))).toBe(A);
    expect(list.lookup(`sha256:${sha256(A)}`)).toBe(A);
    expect(list.lookup('custom-id')).toBe(B);
    expect(list.lookup(sha256(B))).toBe(B);
    expect(list.lookup('unknown')).toBeUndefined();
  });

  it('recognises listed texts exactly (by hash) or canonically (whitespace, commas, comments aside)', () => {
    expect(list.hasTextHash(sha256(A))).toBe(true);
    expect(list.hasDocument(parse(`# comment\nquery A {\n products(first: 1) { id, } }`))).toBe(true);
    expect(list.hasDocument(parse('query A { products(first: 2) { id } }'))).toBe(false);
  });

  it('refuses a wrong format or version, entries without id or body, texts that do not parse, conflicting ids', () => {
    expect(problems('{"format":"other","version":2,"operations":[]}')).toEqual(['format must be "apollo-persisted-query-manifest"', 'version must be 1']);
    const bad = JSON.stringify({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ body: A }, { id: 'x', body: '' }, { id: 'y', body: '{ broken' }, { id: 'z', body: A }, { id: 'z', body: B }],
    });
    expect(problems(bad)).toEqual([
      'operations[0].id must be a non-empty string',
      'operations[1] (x): body must be a non-empty string',
      expect.stringMatching(/^y: does not parse \(Syntax Error/),
      'z: listed twice with different texts',
    ]);
    expect(problems('not json')).toEqual(['not JSON']);
    expect(problems('[]')).toEqual([expect.stringMatching(/expected a JSON object/)]);
  });
});

describe('Relay persisted queries', () => {
  it('maps ids to texts', () => {
    const list = parseTrustedDocuments(JSON.stringify({ q1: A, q2: B }));
    expect([list.format, list.size, list.lookup('q2')]).toEqual(['relay', 2, B]);
    expect(problems(JSON.stringify({ q1: A, q2: 5 }))).toEqual(['"q2": expected a non-empty id mapped to the document text']);
  });
});

describe('configuration', () => {
  const base = { NODE_ENV: 'test' };
  const configProblems = (env: Record<string, string>) => {
    try {
      loadConfig({ ...base, ...env });
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };

  it('defaults to off, and to enforcing the cost limit', () => {
    const config = loadConfig(base);
    expect(config.trustedDocuments).toMatchObject({ mode: 'off', file: undefined, url: undefined, pollIntervalMs: 30_000 });
    expect(config.limits).toMatchObject({ costMode: 'enforce', maxCost: 100_000, defaultListSize: 10 });
  });

  it('a mode needs exactly one source, a source needs a mode, a scope needs tokens, a URL https or loopback', () => {
    expect(configProblems({ PORTICO_TRUSTED_DOCUMENTS_MODE: 'enforce' })).toEqual([expect.stringMatching(/^PORTICO_TRUSTED_DOCUMENTS_MODE: enforce needs exactly one of/)]);
    expect(configProblems({ PORTICO_TRUSTED_DOCUMENTS_FILE: 'm.json' })).toEqual([expect.stringMatching(/^PORTICO_TRUSTED_DOCUMENTS_FILE: has no effect while PORTICO_TRUSTED_DOCUMENTS_MODE=off/)]);
    expect(configProblems({ PORTICO_TRUSTED_DOCUMENTS_MODE: 'log', PORTICO_TRUSTED_DOCUMENTS_URL: 'http://manifests.example.com/m.json' })).toEqual([
      expect.stringMatching(/^PORTICO_TRUSTED_DOCUMENTS_URL: must use https/),
    ]);
    expect(configProblems({ PORTICO_TRUSTED_DOCUMENTS_MODE: 'log', PORTICO_TRUSTED_DOCUMENTS_URL: 'http://127.0.0.1:9/m.json' })).toEqual([]);
    expect(configProblems({ PORTICO_TRUSTED_DOCUMENTS_MODE: 'enforce', PORTICO_TRUSTED_DOCUMENTS_FILE: 'm.json', PORTICO_TRUSTED_DOCUMENTS_BYPASS_SCOPE: 'graph:develop' })).toEqual([
      expect.stringMatching(/^PORTICO_TRUSTED_DOCUMENTS_BYPASS_SCOPE: a scope can only come from a verified token/),
    ]);
    expect(configProblems({ PORTICO_COST_MODE: 'audit' })).toEqual([expect.stringMatching(/^PORTICO_COST_MODE: expected one of measure, enforce/)]);
  });
});
