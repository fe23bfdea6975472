/**
 * `npm run supergraph -- publish`: composes the demo subgraphs and publishes into a folder (with a
 * detached signature that verifies); a manifest whose subgraphs do not compose prints every
 * error for a person and publishes nothing.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyDetached } from '../../src/controlPlane/signature.ts';
import { sha16 } from '../../scripts/supergraph.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-supergraph-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', 'supergraph', '--', ...args], { timeout: 60_000, env: { ...process.env, APOLLO_TELEMETRY_DISABLED: 'true' } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run supergraph -- publish', () => {
  it('composes, signs and publishes into a folder; the signature verifies', async () => {
    const keys = generateKeyPairSync('ed25519');
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const out = join(dir, 'registry');
    const r = await cli(['publish', '--dir', out, '--sign', keyFile]);
    expect(r.code, r.stderr).toBe(0);
    const sdl = readFileSync(join(out, 'supergraph.graphql'), 'utf8');
    expect(r.stdout).toMatch(new RegExp(`^published ${sha16(sdl)} to .*supergraph\\.graphql; instances run it as a canary`, 'm'));
    await verifyDetached(sdl, readFileSync(join(out, 'supergraph.graphql.sig'), 'utf8'), keys.publicKey);
    await expect(verifyDetached(`${sdl} `, readFileSync(join(out, 'supergraph.graphql.sig'), 'utf8'), keys.publicKey)).rejects.toThrow(/signature does not verify/);
  }, 60_000);

  it('prints composition errors one per block, with the code and the subgraph, and publishes nothing', async () => {
    for (const f of ['product', 'pricing', 'inventory', 'review']) copyFileSync(`schemas/${f}.graphql`, join(dir, `${f}.graphql`));
    copyFileSync('schemas/subgraphs.json', join(dir, 'subgraphs.json'));
    // Two subgraphs disagree on a shared field's type.
    writeFileSync(join(dir, 'review.graphql'), readFileSync(join(dir, 'review.graphql'), 'utf8').replace('type Product @key(fields: "id") {\n  id: ID!', 'type Product @key(fields: "id") {\n  id: ID!\n  name: Int @federation__shareable'));
    writeFileSync(join(dir, 'product.graphql'), readFileSync(join(dir, 'product.graphql'), 'utf8').replace('  name: String!', '  name: String! @federation__shareable'));
    const out = join(dir, 'not-published');
    const r = await cli(['publish', '--manifest', join(dir, 'subgraphs.json'), '--dir', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^composition failed with \d+ error\(s\); nothing was published:$/m);
    expect(r.stderr).toMatch(/^ {2}1\. [A-Z_]+\n {5}.*"Product\.name".*$/m);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
