import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

interface Widths {
  fields: number;
  twoByteFieldKeys: string[];
  twoByteAnswerKeys: string[];
  twoByteResponse: boolean;
}

/** Runs test/fixtures/names/keyWidths.ts in a fresh process: the string table is per process. */
function widths(mode: 'held' | 'raw', supergraph: string, width: 'as-is' | 'two-byte' = 'as-is'): Widths {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/names/keyWidths.ts', mode, supergraph, width], {
    env: { ...process.env, APOLLO_TELEMETRY_DISABLED: 'true' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Widths;
}

function expectAllOneByte(held: Widths): void {
  expect(held.fields).toBeGreaterThan(10);
  expect(held.twoByteFieldKeys).toEqual([]);
  expect(held.twoByteAnswerKeys).toEqual([]);
  expect(held.twoByteResponse).toBe(false);
}

describe('supergraph names held one byte a character (src/supergraph/names.ts)', () => {
  // Node 20's V8 leaves two-byte copies of ASCII field names in its string table while
  // @apollo/federation-internals builds a supergraph; every answer and response with those keys
  // is then serialized two bytes a character and encoded to UTF-8 slowly (16 % of the CPU on
  // the public benchmark). Through prepareForGateway the names are entered one-byte first.
  for (const supergraph of ['schemas/supergraph.graphql', 'bench/public/supergraph.graphql']) {
    it(`${supergraph}: schema keys, parsed answers and the response stay one-byte`, () => {
      expectAllOneByte(widths('held', supergraph));
    }, 120_000);
  }

  it('an SDL held two bytes a character (one non-Latin-1 character anywhere) still gives one-byte names', () => {
    expectAllOneByte(widths('held', 'bench/public/supergraph.graphql', 'two-byte'));
  }, 120_000);

  it('the fixture sees two-byte keys where names.ts is not in the way', () => {
    // The defect on an all-ASCII SDL shows in most process starts, not all (on Node 20.20 in
    // 38 of 41 starts here; in one CI run, not at all): which copy of a name V8 enters first
    // depends on more than this process's inputs. So the detector is proven on the route that
    // is certain: names sliced from a two-byte SDL are two-byte (30 of 30 starts, under load too).
    const raw = widths('raw', 'bench/public/supergraph.graphql', 'two-byte');
    // If a future Node no longer does this, this test says so.
    expect(raw.twoByteFieldKeys.length).toBeGreaterThan(0);
    expect(raw.twoByteAnswerKeys.length).toBeGreaterThan(0);
    expect(raw.twoByteResponse).toBe(true);
  }, 120_000);
});
