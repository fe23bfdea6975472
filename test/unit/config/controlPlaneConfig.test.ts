import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';

describe('control-plane configuration', () => {
  it('defaults to today: the file alone, no canary, no cache', () => {
    const c = loadConfig({});
    expect(c.controlPlane).toMatchObject({ fileSource: true, urls: [], push: false, cacheDir: undefined, canary: { percent: 0 } });
  });

  it('with URLs: a 5 % canary by default, and the file only when PORTICO_SUPERGRAPH_PATH is set', () => {
    const urls = { PORTICO_SUPERGRAPH_URLS: 'https://registry.example/sg.graphql,https://mirror.example/sg.graphql' };
    expect(loadConfig(urls).controlPlane).toMatchObject({ fileSource: false, urls: ['https://registry.example/sg.graphql', 'https://mirror.example/sg.graphql'], canary: { percent: 5 } });
    expect(loadConfig({ ...urls, PORTICO_SUPERGRAPH_PATH: 'x.graphql', PORTICO_SUPERGRAPH_CANARY_PERCENT: '0' }).controlPlane).toMatchObject({ fileSource: true, canary: { percent: 0 } });
  });

  it('refuses, naming the variable: a push without Redis, a URL that is not http(s), an unreadable key, a canary above 50 %', () => {
    expect(() => loadConfig({ PORTICO_SUPERGRAPH_PUSH: 'true' })).toThrow(/PORTICO_SUPERGRAPH_PUSH: a push comes through Redis; set PORTICO_REDIS_URL/);
    expect(() => loadConfig({ PORTICO_SUPERGRAPH_URLS: 'ftp://registry/sg' })).toThrow(/PORTICO_SUPERGRAPH_URLS: not an http\(s\) URL/);
    expect(() => loadConfig({ PORTICO_SUPERGRAPH_URLS: 'https://r/sg', PORTICO_SUPERGRAPH_PUBLIC_KEY_FILE: '/nonexistent/key.pem' })).toThrow(/PORTICO_SUPERGRAPH_PUBLIC_KEY_FILE: expected a readable PEM public key \(SPKI\): ENOENT/);
    expect(() => loadConfig({ PORTICO_SUPERGRAPH_CANARY_PERCENT: '80' })).toThrow(/PORTICO_SUPERGRAPH_CANARY_PERCENT/);
  });
});
