import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

// Docs are part of the work: every setting the config reads is in the README's table, and every
// error code clients can get is documented.
it('the README configuration table lists every environment variable src/config reads', () => {
  const source = readFileSync('src/config/schema.ts', 'utf8');
  const keys = [...source.matchAll(/^\s+((?:PORTICO_[A-Z0-9_]+)|PORT|NODE_ENV): /gm)].map((m) => m[1]!);
  expect(keys.length).toBeGreaterThan(40);
  const readme = readFileSync('README.md', 'utf8');
  expect(keys.filter((k) => !readme.includes(`\`${k}\``))).toEqual([]);
});

it('docs/errors.md documents every error code in src/errors/catalogue.ts', () => {
  const source = readFileSync('src/errors/catalogue.ts', 'utf8');
  const codes = [...source.matchAll(/^\s+([A-Z_]+): '([A-Z_]+)',$/gm)].map((m) => m[2]!);
  expect(codes.length).toBeGreaterThan(10);
  const doc = readFileSync('docs/errors.md', 'utf8');
  expect(codes.filter((c) => !doc.includes(`\`${c}\``))).toEqual([]);
});
