import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect, it } from 'vitest';
import { gql, PRODUCT_PAGE } from '../helpers/portico.ts';

// `npm start` (scripts/dev.ts) on free ports: the whole demo in one command, answered, then a
// clean stop on SIGTERM.
it('npm start serves the product page from all four subgraphs and stops cleanly on SIGTERM', async () => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    PORTICO_HOST: '127.0.0.1',
    PORTICO_OPS_PORT: '0',
    PORTICO_MOCK_PRODUCT_PORT: '0',
    PORTICO_MOCK_PRICING_PORT: '0',
    PORTICO_MOCK_INVENTORY_PORT: '0',
    PORTICO_MOCK_REVIEW_PORT: '0',
    PORTICO_MOCK_IDP_PORT: '0',
    NODE_ENV: 'development',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /POST (http:\/\/127\.0\.0\.1:\d+\/graphql)/.exec(out);
        if (m && out.includes('Try the product page')) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`npm start exited early (${code}): ${out}`)));
    });
    expect(out).toMatch(/Apollo Sandbox: +open http:\/\/127\.0\.0\.1:\d+\/graphql/);
    const r = await gql(url, PRODUCT_PAGE, { first: 3 });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.products[0]).toMatchObject({ name: expect.any(String), price: { currency: 'USD' }, inventory: { inStock: expect.any(Boolean) } });
    // The demo's subgraphs send cache hints and the cache is on by default: the same page again
    // is answered without calling pricing, inventory or review (what ../shared/checks/caching asks).
    const ports = Object.fromEntries([...out.matchAll(/(product|pricing|inventory|review) :(\d+)/g)].map((m) => [m[1]!, m[2]!]));
    const entityCalls = async () => {
      let n = 0;
      for (const name of ['pricing', 'inventory', 'review']) n += ((await (await fetch(`http://127.0.0.1:${ports[name]}/stats`)).json()) as { graphqlRequests: number }).graphqlRequests;
      return n;
    };
    const before = await entityCalls();
    const again = await gql(url, PRODUCT_PAGE, { first: 3 });
    expect(again.body).toEqual(r.body);
    expect(await entityCalls()).toBe(before);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
