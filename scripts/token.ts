/**
 * Mints a DEV-ONLY bearer token signed with the committed dev key (see subgraphs-mock/dev-keys).
 * It always carries the reserved issuer `portico-dev-idp` and a `portico-dev-` kid, so a
 * production gateway refuses it (docs/security.md, "The development IdP").
 *
 *   npm run token -- --sub alice --scopes review:write,pricing:internal --tier premium [--ttl 3600]
 *
 * stdout carries only the token, so `TOKEN=$(npm run -s token -- --sub alice)` works; hints and
 * errors go to stderr. `--scopes` takes comma- or space-separated lists and may be repeated.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_DEV_TOKEN_TTL_S, DEV_AUDIENCE, DEV_ISSUER, signDevToken } from '../subgraphs-mock/idp.ts';

const USAGE = 'usage: npm run token -- --sub <subject> [--scopes a,b] [--tier <tier>] [--ttl <seconds>]';

/** Flattens repeated, comma- or space-separated scope flags into a de-duplicated list. */
export function parseScopes(values: readonly string[]): string[] {
  return [...new Set(values.flatMap((v) => v.split(/[\s,]+/)).filter((s) => s !== ''))];
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        sub: { type: 'string' },
        scopes: { type: 'string', multiple: true, default: [] },
        tier: { type: 'string' },
        ttl: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  if (values.sub === undefined || values.sub === '') {
    process.stderr.write(`--sub is required\n${USAGE}\n`);
    return 2;
  }
  const ttlS = values.ttl === undefined ? DEFAULT_DEV_TOKEN_TTL_S : Number(values.ttl);
  if (!Number.isInteger(ttlS) || ttlS <= 0) {
    process.stderr.write(`--ttl must be a positive whole number of seconds, got ${values.ttl}\n`);
    return 2;
  }
  const scopes = parseScopes(values.scopes);
  const token = await signDevToken({ sub: values.sub, scopes, tier: values.tier, ttlS });
  process.stdout.write(`${token}\n`);
  process.stderr.write(
    `DEV-ONLY token: sub=${values.sub} scope="${scopes.join(' ')}" tier=${values.tier ?? '-'} ` +
      `iss=${DEV_ISSUER} aud=${DEV_AUDIENCE} expires in ${ttlS}s\n`,
  );
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
