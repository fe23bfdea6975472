/**
 * The committed supergraph is what the SDLs compose to, and broken SDLs fail loudly: one error per
 * line and a non-zero exit from the CLI.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SUPERGRAPH_PATH, composeFromManifest } from '../../scripts/compose.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCHEMAS = join(ROOT, 'schemas');
const COMPOSE_SCRIPT = join(ROOT, 'scripts', 'compose.ts');
/** Bound on one CLI run (tsx start-up plus composition), in ms. */
const CLI_TIMEOUT_MS = 30_000;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the compose CLI in a child process, as `npm run compose` would. */
function runCli(args: string[]): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', COMPOSE_SCRIPT, ...args], {
      cwd: ROOT,
      env: { ...process.env, APOLLO_TELEMETRY_DISABLED: 'true' },
      timeout: CLI_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'portico-compose-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** Copies the real SDLs and manifest into a temp dir, replacing some files' content. */
function manifestWith(dir: string, overrides: Record<string, string>): string {
  const folder = mkdtempSync(join(tmp, `${dir}-`));
  for (const f of ['product.graphql', 'pricing.graphql', 'inventory.graphql', 'review.graphql', 'subgraphs.json']) {
    copyFileSync(join(SCHEMAS, f), join(folder, f));
  }
  for (const [file, content] of Object.entries(overrides)) writeFileSync(join(folder, file), content);
  return join(folder, 'subgraphs.json');
}

// Two independent composition errors: Money is defined in a second subgraph without
// @shareable, and inventory makes a contributed field's type clash with pricing's.
const CONFLICTING_INVENTORY = readFileSync(join(SCHEMAS, 'inventory.graphql'), 'utf8').replace(
  '  inventory: Inventory\n',
  '  inventory: Inventory\n  price: Money\n',
) + '\ntype Money {\n  amount: Int!\n  currency: String!\n}\n';

describe('composeFromManifest', () => {
  it('reproduces the committed supergraph exactly', () => {
    const result = composeFromManifest(join(SCHEMAS, 'subgraphs.json'));
    if ('errors' in result) throw new Error(result.errors.join('\n'));
    expect(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8')).toBe(result.supergraphSdl);
  });

  it('returns composition errors, each on one line', () => {
    const result = composeFromManifest(manifestWith('conflict', { 'inventory.graphql': CONFLICTING_INVENTORY }));
    expect('errors' in result).toBe(true);
    if (!('errors' in result)) return;
    expect(result.errors.length).toBeGreaterThanOrEqual(2);
    for (const e of result.errors) expect(e).not.toContain('\n');
    expect(result.errors.join('\n')).toMatch(/INVALID_FIELD_SHARING/);
  });

  it('returns syntax errors naming the subgraph and file', () => {
    const result = composeFromManifest(manifestWith('syntax', { 'review.graphql': 'type Review {\n  id: ID!\n' }));
    expect(result).toEqual({ errors: [expect.stringMatching(/^\[review\] .*review\.graphql: Syntax Error/)] });
  });

  it('reports a missing manifest instead of throwing', () => {
    const result = composeFromManifest(join(tmp, 'nope.json'));
    expect(result).toEqual({ errors: [expect.stringMatching(/^manifest .*nope\.json: /)] });
  });
});

describe('compose CLI', () => {
  it('prints one error per line to stderr and exits 1, leaving --out untouched', async () => {
    const out = join(tmp, 'never-written.graphql');
    const manifest = manifestWith('cli-conflict', { 'inventory.graphql': CONFLICTING_INVENTORY });
    const expected = composeFromManifest(manifest);
    if (!('errors' in expected)) throw new Error('the conflicting SDL unexpectedly composed');
    const { code, stderr } = await runCli(['--manifest', manifest, '--out', out]);
    expect(code).toBe(1);
    const lines = stderr.trimEnd().split('\n');
    expect(lines.slice(0, -1)).toEqual(expected.errors);
    expect(lines.at(-1)).toMatch(/composition failed: \d+ error\(s\)/);
    expect(() => readFileSync(out)).toThrow();
  });

  it('writes the supergraph to --out and exits 0', async () => {
    const out = join(tmp, 'supergraph.graphql');
    const { code } = await runCli(['--manifest', join(SCHEMAS, 'subgraphs.json'), '--out', out]);
    expect(code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
  });
});
