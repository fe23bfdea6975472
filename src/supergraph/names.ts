/**
 * Keeps every name of the loaded supergraphs in V8's string table as a one-byte string.
 *
 * Why: V8 stores a string either one byte or two bytes a character, and a property key is the
 * one copy the string table holds of its text. Building the supergraph (`Supergraph.build` in
 * @apollo/federation-internals, on Node 20) leaves two-byte copies of field names such as
 * `users` or `inStock` in that table, although every character is ASCII. From then on every
 * object with those keys — the subgraph answers `JSON.parse` builds, the response the executor
 * shapes — carries two-byte keys, so `JSON.stringify` writes the whole response two bytes a
 * character, and encoding it to UTF-8 is slow: on the public benchmark's 87 KB answer,
 * `Buffer.from` took 0.72 ms in the running gateway against 0.08 ms once the keys were
 * one-byte, 16 % of the gateway's CPU (docs/benchmarks.md, issue 20, session 9).
 *
 * A name entered first stays: the table returns the existing entry for equal text whatever its
 * width. So the names are entered here, one byte a character, before the gateway sees the SDL,
 * and held for as long as that supergraph can be serving.
 */

/** A GraphQL name, as the spec defines it; words of descriptions match too, which is harmless. */
const NAME_RE = /[_A-Za-z][_0-9A-Za-z]*/g;

/**
 * Names held across supergraph versions. A rollout has at most a stable and a canary version
 * at once; when the table grows past this (many versions with many new names), it is rebuilt
 * from the newest supergraph alone.
 */
const MAX_HELD_NAMES = 200_000;

/** The holder: a dictionary of the names as keys, which is what keeps them in the string table. */
let held: Record<string, true> = Object.create(null) as Record<string, true>;
let heldCount = 0;

/** Enters every name of `sdl` into the string table as a one-byte string and keeps it there. */
export function holdOneByteNames(sdl: string): void {
  const names = sdl.match(NAME_RE);
  if (!names) return;
  if (heldCount + names.length > MAX_HELD_NAMES) {
    held = Object.create(null) as Record<string, true>;
    heldCount = 0;
  }
  for (const name of names) {
    // A slice of a two-byte SDL (one with a non-Latin-1 character anywhere) is two-byte
    // itself; decoding its bytes as Latin-1 makes a one-byte copy of the same ASCII text.
    const oneByte = Buffer.from(name, 'latin1').toString('latin1');
    if (held[oneByte] === true) continue;
    held[oneByte] = true;
    heldCount++;
  }
}
