/** docs/architecture.md and the lint rule's layers stay true as folders come and go. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const folders = readdirSync('src').filter((n) => statSync(join('src', n)).isDirectory());
const doc = readFileSync('docs/architecture.md', 'utf8');
const rules = readFileSync('.dependency-cruiser.cjs', 'utf8');

describe('architecture', () => {
  it('every src/ folder is described in docs/architecture.md', () => {
    expect(folders.length).toBeGreaterThan(10);
    for (const f of folders) expect(doc, `src/${f}/ missing from docs/architecture.md`).toContain(`\`${f}/\``);
  });

  it('every src/ folder sits in a layer of the dependency rule', () => {
    const layered = [...rules.matchAll(/^const [A-Z]+ = '(.*)';$/gm)].map((m) => new RegExp(m[1]!.replace(/\\\\/g, '\\')));
    expect(layered.length).toBeGreaterThanOrEqual(4);
    for (const f of folders) {
      const files = readdirSync(join('src', f)).filter((n) => n.endsWith('.ts'));
      for (const n of files) expect(layered.some((re) => re.test(`src/${f}/${n}`)), `src/${f}/${n} is in no layer of .dependency-cruiser.cjs`).toBe(true);
    }
  });
});
