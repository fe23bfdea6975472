/**
 * Golden-answer comparison: a gateway's first responses must equal the reference answer, so a
 * fast wrong answer cannot win. Objects compare by key set (key order is not data), arrays and
 * scalars exactly.
 */

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Where two JSON values first differ, as `path: expected X, got Y`; undefined when equal.
 */
export function firstDifference(expected: unknown, actual: unknown, path = '$'): string | undefined {
  if (expected === actual) return undefined;
  if (typeof expected !== typeof actual || expected === null || actual === null || typeof expected !== 'object') {
    return `${path}: expected ${show(expected)}, got ${show(actual)}`;
  }
  if (Array.isArray(expected) !== Array.isArray(actual)) return `${path}: expected ${show(expected)}, got ${show(actual)}`;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) return `${path}: expected ${expected.length} items, got ${actual.length}`;
    for (let i = 0; i < expected.length; i++) {
      const diff = firstDifference(expected[i], actual[i], `${path}[${i}]`);
      if (diff !== undefined) return diff;
    }
    return undefined;
  }
  const e = expected as Record<string, unknown>;
  const a = actual as Record<string, unknown>;
  for (const key of new Set([...Object.keys(e), ...Object.keys(a)])) {
    if (!(key in a)) return `${path}.${key}: missing`;
    if (!(key in e)) return `${path}.${key}: unexpected (${show(a[key])})`;
    const diff = firstDifference(e[key], a[key], `${path}.${key}`);
    if (diff !== undefined) return diff;
  }
  return undefined;
}
