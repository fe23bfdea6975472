/**
 * `npm run start:mocks`: the four demo subgraphs on 4001–4004 and the development identity
 * provider on 4005 (ports overridable with PORTICO_MOCK_<NAME>_PORT / PORTICO_MOCK_IDP_PORT).
 * Faults can be preset with PORTICO_MOCK_<NAME>_FAULTS and changed at run time with /faults.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEV_IDP_DEFAULT_PORT, startDevIdp } from './idp.ts';
import { DEFAULT_MOCK_PORTS, MOCK_NAMES, startAllMocks, type MockName } from './index.ts';

export async function startDemoBackends(env: NodeJS.ProcessEnv = process.env) {
  const ports = Object.fromEntries(
    MOCK_NAMES.map((n) => [n, portFrom(env[`PORTICO_MOCK_${n.toUpperCase()}_PORT`], DEFAULT_MOCK_PORTS[n])]),
  ) as Record<MockName, number>;
  const host = env.PORTICO_MOCK_HOST ?? '127.0.0.1';
  // The demo sends cache hints (PORTICO_MOCK_CACHE_HINTS=false to turn them off).
  const mocks = await startAllMocks({ ports, host, env, cacheHints: env.PORTICO_MOCK_CACHE_HINTS !== 'false' });
  let idp;
  try {
    idp = await startDevIdp({ port: portFrom(env.PORTICO_MOCK_IDP_PORT, DEV_IDP_DEFAULT_PORT), host });
  } catch (err) {
    await mocks.stop();
    throw err;
  }
  return {
    mocks,
    idp,
    async stop() {
      await Promise.all([mocks.stop(), idp.stop()]);
    },
  };
}

function portFrom(raw: string | undefined, def: number): number {
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new Error(`invalid port ${JSON.stringify(raw)}: expected an integer from 0 to 65535`);
  return n;
}

// Run directly (not imported by scripts/dev.ts).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const backends = await startDemoBackends();
  for (const m of Object.values(backends.mocks.mocks)) process.stdout.write(`mock ${m.name.padEnd(9)} ${m.url}  (faults: POST/DELETE http://127.0.0.1:${m.port}/faults)\n`);
  process.stdout.write(`dev IdP         ${backends.idp.jwksUrl}\n`);
  const stop = () => void backends.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
