import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('observability settings (issue 19)', () => {
  it('defaults: tracing off (10 % when on, failures kept, loopback collector); probes on with the demo file every 30 s; history every 5 s', () => {
    const c = loadConfig({});
    expect(c.tracing).toEqual({ enabled: false, sampleRatio: 0.1, keepFailed: true, endpoint: 'http://127.0.0.1:4318/v1/traces', headers: {}, serviceName: 'portico' });
    expect(c.probes).toMatchObject({ enabled: true, file: 'schemas/probes.json', fileIsDefault: true, intervalMs: 30_000, timeoutMs: 10_000, token: undefined });
    expect(c.status.sampleMs).toBe(5_000);
  });

  it('reads the standard OTEL_* names: generic endpoint + /v1/traces, the signal one as is, headers, service name, sampler arg', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing.endpoint).toBe('http://collector:4318/v1/traces');
    const c = loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:9/x', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Basic abc', OTEL_SERVICE_NAME: 'edge', OTEL_TRACES_SAMPLER_ARG: '0.25' });
    expect(c.tracing).toMatchObject({ endpoint: 'http://c:9/x', headers: { authorization: 'Basic abc' }, serviceName: 'edge', sampleRatio: 0.25 });
    expect(loadConfig({ OTEL_TRACES_SAMPLER_ARG: '0.25', PORTICO_OTEL_SAMPLE_RATIO: '1' }).tracing.sampleRatio).toBe(1);
  });

  it('bad values fail at start naming the variable and what is allowed', () => {
    expect(problemsOf({ PORTICO_OTEL_SAMPLE_RATIO: '10' })).toEqual(['PORTICO_OTEL_SAMPLE_RATIO: expected a number from 0 to 1, got "10"']);
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'nope' })[0]).toMatch(/^OTEL_EXPORTER_OTLP_ENDPOINT: /);
    expect(problemsOf({ PORTICO_PROBE_INTERVAL_MS: '5' })).toEqual(['PORTICO_PROBE_INTERVAL_MS: expected an integer from 100 to 3600000, got "5"']);
  });
});
