import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.ts';

describe('configuration', () => {
  it('defaults everything for an empty environment', () => {
    const c = loadConfig({});
    expect(c.server.port).toBe(4000);
    expect(c.ops.port).toBe(8088);
    expect(c.isProduction).toBe(false);
    expect(c.graphql.introspection).toBe(true);
    expect(c.subgraphs.timeoutMs).toBe(2_000);
    expect(c.subgraphs.requestDeadlineMs).toBe(5_000);
    expect(Object.isFrozen(c.server)).toBe(true);
  });

  it('production turns introspection off and the landing page to the production one', () => {
    const c = loadConfig({ NODE_ENV: 'production' });
    expect(c.graphql.introspection).toBe(false);
    expect(c.graphql.landingPage).toBe('production');
  });

  it('reports every bad value together, each with its name and what is allowed', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'abc', PORTICO_LOG_LEVEL: 'loud', PORTICO_SUBGRAPH_URLS: 'pricing=ftp://x', NODE_ENV: 'staging', PORTICO_SUBGRAPH_DEDUP: 'maybe' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems.find((p) => p.startsWith('PORT:'))).toMatch(/integer from 0 to 65535.*"abc"/);
    expect(problems.find((p) => p.startsWith('PORTICO_LOG_LEVEL:'))).toMatch(/one of fatal, error, warn, info/);
    expect(problems.find((p) => p.startsWith('PORTICO_SUBGRAPH_URLS:'))).toMatch(/not an http\(s\) URL/);
    expect(problems.find((p) => p.startsWith('NODE_ENV:'))).toMatch(/development, production, test/);
    expect(problems.find((p) => p.startsWith('PORTICO_SUBGRAPH_DEDUP:'))).toMatch(/true or false/);
  });

  it('refuses a quota the limiter cannot enforce at start, naming the variable', () => {
    expect(() => loadConfig({ PORTICO_RATE_LIMITS: 'anonymous=100000000/1m' })).toThrow(/PORTICO_RATE_LIMITS.*limit must be at most windowMs \* 1000/s);
    expect(() => loadConfig({ PORTICO_RATE_LIMITS: 'anonymous=5/100ms' })).toThrow(/PORTICO_RATE_LIMITS/);
    expect(loadConfig({ PORTICO_RATE_LIMITS: 'anonymous=1000000/1m' }).rateLimit.policies.anonymous).toEqual({ limit: 1_000_000, windowMs: 60_000 });
  });

  it('parses per-key timeouts and fallbacks', () => {
    const c = loadConfig({ PORTICO_SUBGRAPH_TIMEOUTS: 'pricing=800, review:Product=300', PORTICO_FALLBACKS: 'review:Product=stale' });
    expect(c.subgraphs.timeouts).toEqual({ pricing: 800, 'review:Product': 300 });
    expect(c.subgraphs.fallbacks).toEqual({ 'review:Product': 'stale' });
  });

  it('the gateway process refuses to start on a bad value and names it', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: 'abc', APOLLO_TELEMETRY_DISABLED: 'true' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/PORT: expected an integer from 0 to 65535, got "abc"/);
  });
});
