import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extend } from '../../../src/runtime/objects.ts';

describe('extend (src/runtime/objects.ts)', () => {
  it('gives what `{ ...base, ...extra }` gives: extra wins, own keys only, a parsed __proto__ stays own', () => {
    const base = JSON.parse('{"__proto__":{"polluted":true},"a":1,"b":2}') as Record<string, unknown>;
    const out = extend(base, { b: 3, c: 4 }) as Record<string, unknown>;
    expect(out).toEqual({ ['__proto__']: { polluted: true }, a: 1, b: 3, c: 4 });
    expect(Object.keys(out)).toEqual(['__proto__', 'a', 'b', 'c']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out['polluted']).toBeUndefined();
    expect(extend(undefined, { a: 1 })).toEqual({ a: 1 });
    expect(extend({ a: 1 }, null)).toEqual({ a: 1 });
  });

  it('keeps one V8 map per shape, where a literal starting with a spread makes a new one per call (Node 20)', () => {
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', 'test/fixtures/runtime/literalMaps.mjs', join(process.cwd(), 'src/runtime/objects.ts')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const counts = JSON.parse(r.stdout) as { spreadFresh: number; extendFresh: number };
    expect(counts.extendFresh).toBe(0);
    // The defect extend() and the ESLint rule avoid. If a future Node stops doing this, this
    // says so, and the helper and the rule can go.
    expect(counts.spreadFresh).toBeGreaterThan(0);
  });
});

describe('the @apollo/server patch (patches/, applied by npm ci through patch-package)', () => {
  it('is in the installed package: no accessor literal and no spread-first literals on the request path', () => {
    const esm = dirname(createRequire(import.meta.url).resolve('@apollo/server')).replace(/cjs$/, 'esm');
    const gatewayContext = readFileSync(join(esm, 'utils', 'makeGatewayGraphQLRequestContext.js'), 'utf8');
    expect(gatewayContext).toContain('class GatewayResponseHTTP');
    expect(gatewayContext).not.toContain('get status() {\n                return newRequestContext');
    expect(readFileSync(join(esm, 'requestPipeline.js'), 'utf8')).toContain('execute(Object.assign({}, requestContext, {');
    expect(readFileSync(join(esm, 'runHttpQuery.js'), 'utf8')).toContain('return Object.assign({}, graphQLResponse.http, {');
  });
});

describe('the @apollo/utils.createhash patches (patches/)', () => {
  it('resolve crypto once, in the copies @apollo/server and @apollo/gateway load', () => {
    const here = createRequire(import.meta.url);
    for (const owner of ['@apollo/server', '@apollo/gateway']) {
      const path = createRequire(here.resolve(owner)).resolve('@apollo/utils.createhash');
      const source = readFileSync(path, 'utf8');
      expect(source, path).toContain('const nodeCrypto = ');
      expect(source, path).not.toContain('return module.require("crypto").createHash(kind)');
      // Still a working sha256.
      const { createHash } = createRequire(here.resolve(owner))('@apollo/utils.createhash') as { createHash(kind: string): { update(s: string): { digest(e: 'hex'): string } } };
      expect(createHash('sha256').update('portico').digest('hex')).toHaveLength(64);
    }
  });
});
