/**
 * The control plane's command line.
 *
 *   npm run supergraph -- publish [--manifest schemas/subgraphs.json | --file <supergraph>]
 *                                 (--dir <folder served over HTTP> | --redis <url>) [--sign <private key PEM>]
 *   npm run supergraph -- status --redis <url> [--json]
 *
 * `publish` composes the subgraph SDLs of a manifest (or takes a composed file), checks it, and
 * publishes it: into a folder a registry or bucket serves (written atomically, with a detached
 * signature next to it when `--sign` is given), or through Redis (every instance with
 * PORTICO_SUPERGRAPH_PUSH=true gets it within a second). Composition errors are printed one per
 * block, with the subgraph and the fix, and nothing is published. Instances then run it as a
 * canary (docs/deployment.md "Control plane").
 *
 * `status` shows what each instance serves (hash, since when, source, canary), as the instances
 * announce it in Redis every 5 s.
 */
import { createHash, createPrivateKey } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CompactSign } from 'jose';
import { parse } from 'graphql';
import { ANNOUNCE_EVERY_MS, REDIS_KEYS } from '../src/controlPlane/index.ts';
import { createLogger } from '../src/logging/index.ts';
import { createRedisClient, whenReady, type RedisClient } from '../src/redis/index.ts';
import { composeFromManifest, DEFAULT_MANIFEST_PATH } from './compose.ts';

process.env.APOLLO_TELEMETRY_DISABLED = 'true';

/** The file name instances fetch from a published folder: `PORTICO_SUPERGRAPH_URLS=https://…/supergraph.graphql`. */
export const PUBLISHED_FILE = 'supergraph.graphql';

export interface PublishOptions {
  /** Compose from this manifest (default schemas/subgraphs.json) … */
  readonly manifest?: string;
  /** … or publish this composed supergraph as is. */
  readonly file?: string;
  readonly dir?: string;
  readonly redis?: string;
  /** PEM private key: writes `<file>.sig`, a detached JWS (EdDSA, ES256, ES384, PS256 or RS256 by key type). */
  readonly sign?: string;
}

export type PublishResult = { ok: true; hash: string; targets: string[] } | { ok: false; errors: string[] };

export function sha16(sdl: string): string {
  return createHash('sha256').update(sdl).digest('hex').slice(0, 16);
}

/** Composition / validation errors as a person reads them: one block each, what and where. */
export function formatErrors(errors: readonly string[]): string {
  const blocks = errors.map((e, i) => {
    const m = /^(\[[^\]]+\] )?([A-Z_]+): (.*)$/.exec(e);
    return m ? `  ${i + 1}. ${m[2]}\n     ${m[1] ? `${m[1].trim()} ` : ''}${m[3]}` : `  ${i + 1}. ${e}`;
  });
  return `composition failed with ${errors.length} error(s); nothing was published:\n${blocks.join('\n')}\n`;
}

export async function publish(options: PublishOptions): Promise<PublishResult> {
  if (!options.dir && !options.redis) return { ok: false, errors: ['nothing to publish to: give --dir <folder> and/or --redis <url>'] };
  let sdl: string;
  if (options.file) {
    try {
      sdl = readFileSync(options.file, 'utf8');
      parse(sdl);
    } catch (err) {
      return { ok: false, errors: [`${options.file}: ${(err as Error).message.split('\n')[0]}`] };
    }
  } else {
    const composed = composeFromManifest(resolve(options.manifest ?? DEFAULT_MANIFEST_PATH));
    if ('errors' in composed) return { ok: false, errors: composed.errors };
    sdl = composed.supergraphSdl;
  }
  const hash = sha16(sdl);
  const targets: string[] = [];
  if (options.dir) {
    mkdirSync(options.dir, { recursive: true });
    const path = join(options.dir, PUBLISHED_FILE);
    // The signature first: a poller never sees a new file without its signature.
    if (options.sign) atomicWrite(`${path}.sig`, await signDetached(sdl, readFileSync(options.sign, 'utf8')));
    atomicWrite(path, sdl);
    targets.push(path);
  }
  if (options.redis) {
    const redis = createRedisClient({ url: options.redis, commandTimeoutMs: 2_000 }, { logger: createLogger({ level: 'silent' }) });
    try {
      if (!(await whenReady(redis, 5_000))) return { ok: false, errors: ['Redis does not answer (--redis)'] };
      await redis.set(REDIS_KEYS.latest, JSON.stringify({ hash, sdl, publishedAt: new Date().toISOString() }));
      await redis.publish(REDIS_KEYS.published, hash);
      targets.push(`redis ${REDIS_KEYS.latest}`);
    } finally {
      await redis.quit().catch(() => redis.disconnect());
    }
  }
  return { ok: true, hash, targets };
}

export interface InstanceEntry {
  instance: string;
  hash: string;
  since: string;
  source: string;
  canary: { hash: string; percent: number } | null;
  at: string;
  /** Not announced for 3 intervals: stopped or cut off from Redis. */
  stale: boolean;
}

export async function instanceStatus(redisUrl: string, now = Date.now()): Promise<{ latest: string | null; instances: InstanceEntry[] }> {
  const redis: RedisClient = createRedisClient({ url: redisUrl, commandTimeoutMs: 2_000 }, { logger: createLogger({ level: 'silent' }) });
  try {
    if (!(await whenReady(redis, 5_000))) throw new Error('Redis does not answer (--redis)');
    const all = await redis.hgetall(REDIS_KEYS.instances);
    const latestRaw = await redis.get(REDIS_KEYS.latest);
    const latest = latestRaw ? ((JSON.parse(latestRaw) as { hash?: string }).hash ?? null) : null;
    const instances = Object.entries(all)
      .map(([instance, raw]) => {
        const e = JSON.parse(raw) as Omit<InstanceEntry, 'instance' | 'stale'>;
        return { instance, ...e, stale: now - Date.parse(e.at) > 3 * ANNOUNCE_EVERY_MS };
      })
      .sort((a, b) => a.instance.localeCompare(b.instance));
    return { latest, instances };
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

function atomicWrite(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** A detached compact JWS over the file's bytes: `<header>..<signature>`. */
export async function signDetached(sdl: string, privateKeyPem: string): Promise<string> {
  const key = createPrivateKey(privateKeyPem);
  const alg = key.asymmetricKeyType === 'ed25519' ? 'EdDSA' : key.asymmetricKeyType === 'ec' ? (key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ES384' : 'ES256') : 'PS256';
  const jws = await new CompactSign(new TextEncoder().encode(sdl)).setProtectedHeader({ alg }).sign(key);
  const [header, , signature] = jws.split('.');
  return `${header}..${signature}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: { manifest: { type: 'string' }, file: { type: 'string' }, dir: { type: 'string' }, redis: { type: 'string' }, sign: { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  if (command === 'publish') {
    const r = await publish(values);
    if (!r.ok) {
      process.stderr.write(formatErrors(r.errors));
      return 1;
    }
    process.stdout.write(`published ${r.hash} to ${r.targets.join(' and ')}; instances run it as a canary (see: npm run supergraph -- status)\n`);
    return 0;
  }
  if (command === 'status') {
    if (!values.redis) {
      process.stderr.write('status reads what instances announce in Redis: give --redis <url>\n');
      return 1;
    }
    const s = await instanceStatus(values.redis);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(s)}\n`);
      return 0;
    }
    process.stdout.write(`latest published: ${s.latest ?? '(none through Redis)'}\n`);
    process.stdout.write('instance\thash\tsince\tsource\tcanary\n');
    for (const i of s.instances) {
      process.stdout.write(`${i.instance}\t${i.hash}\t${i.since}\t${i.source}\t${i.canary ? `${i.canary.hash} at ${i.canary.percent} %` : '-'}${i.stale ? '\t(stale: not seen since ' + i.at + ')' : ''}\n`);
    }
    return 0;
  }
  process.stderr.write('usage: npm run supergraph -- publish [--manifest <json> | --file <supergraph>] (--dir <folder> | --redis <url>) [--sign <key.pem>]\n       npm run supergraph -- status --redis <url> [--json]\n');
  return 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
