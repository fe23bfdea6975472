/**
 * Object copies that stay on V8's fast path.
 *
 * Why: on Node 20's V8, an object literal that starts with a spread and goes on —
 * `{ ...base, key: value }` or `{ ...a, ...b }` — is built from a clone of `base`'s map that is
 * outside V8's transition tree, so each following property makes a new map, on every call.
 * Measured: 10–170× slower than the same object written out, and the young objects it touches
 * are kept through scavenges until a full GC. In Portico that was most of the ~25 KB per request
 * promoted at every scavenge (docs/benchmarks.md, issue 20, session 11). A literal whose first
 * member is not a spread takes the fast path, as does `Object.assign({}, …)`. ESLint refuses the
 * slow form in src/ (eslint.config.js).
 */

/**
 * `{ ...base, ...extra }`, with the same result: own enumerable properties of both, `extra`'s
 * winning, defined (never set) on a plain object, so a key `__proto__` from parsed JSON stays an
 * own property. The empty spread first keeps the literal's map inside the transition tree.
 */
export function extend<A extends object, B extends object>(base: A | null | undefined, extra: B | null | undefined): Omit<A, keyof B> & B {
  return { ...{}, ...base, ...extra } as Omit<A, keyof B> & B;
}
