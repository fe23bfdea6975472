import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Package name → its original exports object (live getters), kept to check for drift. */
const originals = new Map<string, Record<string, unknown>>();

/**
 * CommonJS packages compiled by TypeScript re-export their modules through one getter per name
 * (`__exportStar`). @apollo/gateway reads `federation_internals_1.<name>` in its result-shaping
 * loop, once per field of every response; each read calls a getter whose keyed load V8 cannot
 * specialise, and that cost 3.5 % of a request's CPU in profiles (`get index.js:5`). The
 * re-exported values are functions, classes and constants assigned once at load, so the
 * package's cached exports are replaced by a plain-object snapshot with the same values.
 * Must run before anything requires the package (src/main.ts imports this module first);
 * `test/integration/flatExports.test.ts` checks the snapshot against the live bindings.
 */
export function flattenReExports(packageName: string): void {
  if (originals.has(packageName)) return;
  const id = require.resolve(packageName);
  const live = require(id) as Record<string, unknown>;
  const cached = require.cache[id];
  if (!cached || cached.exports !== live) return;
  // Spreading reads every getter once: the snapshot holds plain values.
  const flat: Record<string, unknown> = { ...live };
  Object.defineProperty(flat, '__esModule', { value: true });
  cached.exports = flat;
  originals.set(packageName, live);
}

/**
 * Names whose snapshot no longer equals the live binding (a re-export that was reassigned after
 * load), per flattened package. Empty when the snapshot is faithful.
 */
export function flattenedDrift(): string[] {
  const drift: string[] = [];
  for (const [packageName, live] of originals) {
    const flat = require(packageName) as Record<string, unknown>;
    for (const name of Object.keys(live)) if (flat[name] !== live[name]) drift.push(`${packageName}:${name}`);
  }
  return drift;
}

/** True when `packageName`'s cached exports are the flattened snapshot. */
export function isFlattened(packageName: string): boolean {
  const live = originals.get(packageName);
  return live !== undefined && require(packageName) !== live;
}

/** The packages whose hot paths read re-exports. */
export const FLATTENED_PACKAGES = ['@apollo/federation-internals'] as const;

for (const name of FLATTENED_PACKAGES) flattenReExports(name);
