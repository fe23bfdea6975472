import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSupergraphDiskCache } from '../../../src/controlPlane/diskCache.ts';
import { sdlHash } from '../../../src/supergraph/fileSupergraphManager.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-cache-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('supergraph disk cache', () => {
  it('is empty before the first write, then returns what was written, leaving no temp files', async () => {
    const cache = createSupergraphDiskCache(join(dir, 'a', 'nested'), sdlHash);
    expect(await cache.read()).toBeUndefined();
    await cache.write({ sdl: 'type Query { a: Int }', hash: sdlHash('type Query { a: Int }'), source: 'https://r/sg', since: '2026-12-06T10:00:00.000Z' });
    expect(await cache.read()).toEqual({ sdl: 'type Query { a: Int }', hash: sdlHash('type Query { a: Int }'), source: 'https://r/sg', since: '2026-12-06T10:00:00.000Z' });
    expect(readdirSync(join(dir, 'a', 'nested')).sort()).toEqual(['supergraph.graphql', 'supergraph.json']);
  });

  it('trusts the SDL over metadata of another version (a crash between the two renames)', async () => {
    const cache = createSupergraphDiskCache(join(dir, 'b'), sdlHash);
    await cache.write({ sdl: 'v1', hash: sdlHash('v1'), source: 'redis', since: '2026-12-06T10:00:00.000Z' });
    writeFileSync(join(dir, 'b', 'supergraph.graphql'), 'v2');
    expect(await cache.read()).toEqual({ sdl: 'v2', hash: sdlHash('v2'), source: 'unknown', since: statSync(join(dir, 'b', 'supergraph.graphql')).mtime.toISOString() });
  });
});
