import { describe, expect, it } from 'vitest';
import { judgeProbe, parseProbes, ProbeDefinitionError } from '../../../src/probes/index.ts';
import { probeBody } from '../../../src/probes/definitions.ts';

const AT = new Date('2026-01-01T00:00:00Z');

describe('judgeProbe', () => {
  it('ok: 200 with data and no errors', () => {
    expect(judgeProbe('p', AT, 200, 12.34, { data: { a: 1 } })).toMatchObject({ result: 'ok', latencyMs: 12.3, degradedFields: 0, errorCodes: [] });
  });
  it('degraded: 200 whose only errors are the degraded fetches', () => {
    const body = {
      data: { products: [{ price: null }] },
      errors: [{ extensions: { code: 'SUBGRAPH_UNAVAILABLE' } }],
      extensions: { degraded: [{ service: 'pricing', code: 'SUBGRAPH_UNAVAILABLE', count: 3 }] },
    };
    expect(judgeProbe('p', AT, 200, 5, body)).toMatchObject({ result: 'degraded', degradedFields: 3, degradedServices: ['pricing'] });
  });
  it('failed: another error beside the degradation, a non-200, no data, or no answer', () => {
    const body = { data: {}, errors: [{ extensions: { code: 'FORBIDDEN' } }], extensions: { degraded: [{ service: 'pricing', code: 'SUBGRAPH_UNAVAILABLE', count: 1 }] } };
    expect(judgeProbe('p', AT, 200, 5, body).result).toBe('failed');
    expect(judgeProbe('p', AT, 429, 5, { errors: [{ extensions: { code: 'RATE_LIMITED' } }] })).toMatchObject({ result: 'failed', errorCodes: ['RATE_LIMITED'] });
    expect(judgeProbe('p', AT, 200, 5, { data: null }).result).toBe('failed');
    expect(judgeProbe('p', AT, 0, 10_000, undefined, 'PROBE_TIMEOUT')).toMatchObject({ result: 'failed', status: 0, errorCodes: ['PROBE_TIMEOUT'] });
  });
});

describe('parseProbes', () => {
  it('accepts operations by text or by persisted id, and builds their bodies', () => {
    const id = 'a'.repeat(64);
    const probes = parseProbes(JSON.stringify([{ name: 'page', query: '{ a }', variables: { x: 1 } }, { name: 'by-id', id }]), 'f.json');
    expect(JSON.parse(probeBody(probes[0]!))).toEqual({ query: '{ a }', variables: { x: 1 } });
    expect(JSON.parse(probeBody(probes[1]!))).toEqual({ extensions: { persistedQuery: { version: 1, sha256Hash: id } } });
  });
  it('refuses what it cannot run, naming the file and the entry', () => {
    expect(() => parseProbes('[{"name":"x"}]', 'f.json')).toThrow(/f\.json: 0: give exactly one of query/);
    expect(() => parseProbes('[{"name":"x","query":"{a}","id":"' + 'a'.repeat(64) + '"}]', 'f.json')).toThrow(ProbeDefinitionError);
    expect(() => parseProbes('[{"name":"bad name","query":"{a}"}]', 'f.json')).toThrow(/0\.name/);
    expect(() => parseProbes('[{"name":"a","query":"{a}"},{"name":"a","query":"{b}"}]', 'f.json')).toThrow(/used twice/);
    expect(() => parseProbes('nope', 'f.json')).toThrow(/not JSON/);
  });
});
