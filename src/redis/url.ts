/**
 * PORTICO_REDIS_URL, parsed: which Redis topology to connect to. Pure, so config validates with it
 * at start and unit tests pin every form.
 *
 * ioredis takes `redis://` / `rediss://` URLs only; Sentinel and Cluster need options objects. So
 * that one variable still says everything, Portico reads the URL forms other clients already use
 * for them (redis-py ecosystem `redis+sentinel://`, Lettuce `redis-sentinel://`):
 *
 * - `redis://[user:password@]host[:6379][/db]`, `rediss://…` — one Redis, handed to ioredis as is.
 * - `redis+sentinel://[user:password@]host1[:26379],host2[:26379]/<master name>[/db][?sentinelUsername=…&sentinelPassword=…]`
 *   — ask these sentinels for the primary of `<master name>`; user/password are the primary's,
 *   the query parameters the sentinels' own (when they have one). `rediss+sentinel://` uses TLS
 *   to the primary and the sentinels.
 * - `redis+cluster://[user:password@]host1[:6379],host2[:6379]` — seed nodes of a Redis Cluster
 *   (any few; the rest is discovered). `rediss+cluster://` uses TLS. No db: Cluster has only db 0.
 */

/** A host and port of a sentinel or cluster seed node. */
export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly RedisNodeAddress[];
      readonly masterName: string;
      readonly username?: string | undefined;
      readonly password?: string | undefined;
      readonly sentinelUsername?: string | undefined;
      readonly sentinelPassword?: string | undefined;
      readonly db: number;
      readonly tls: boolean;
    }
  | {
      readonly kind: 'cluster';
      readonly nodes: readonly RedisNodeAddress[];
      readonly username?: string | undefined;
      readonly password?: string | undefined;
      readonly tls: boolean;
    };

/** Sentinel's conventional port, used when a sentinel address has none. */
export const DEFAULT_SENTINEL_PORT = 26_379;
/** Redis's conventional port, for cluster seed nodes without one. */
export const DEFAULT_REDIS_PORT = 6_379;

/** What PORTICO_REDIS_URL may be; the start-up error repeats it. */
export const REDIS_URL_FORMS =
  'redis://[user:pass@]host:port[/db], rediss://…, ' +
  'redis+sentinel://[user:pass@]host1:port1,host2:port2/<master name>[/db][?sentinelPassword=…&sentinelUsername=…] ' +
  '(rediss+sentinel:// for TLS), or redis+cluster://[user:pass@]host1:port1,host2:port2 (rediss+cluster:// for TLS)';

export class RedisUrlError extends Error {
  constructor(problem: string) {
    super(`${problem}; expected ${REDIS_URL_FORMS}`);
    this.name = 'RedisUrlError';
  }
}

const SENTINEL_QUERY_KEYS = new Set(['sentinelPassword', 'sentinelUsername']);

/**
 * The topology named by `raw`. Never echoes a password in its errors.
 * @throws RedisUrlError naming what is wrong and every allowed form.
 */
export function parseRedisUrl(raw: string): RedisTarget {
  const text = raw.trim();
  const scheme = /^([a-z+]+):\/\//i.exec(text)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'redis':
    case 'rediss':
      return { kind: 'single', url: single(text) };
    case 'redis+sentinel':
    case 'rediss+sentinel':
      return sentinel(text.slice(scheme.length + 3), scheme.startsWith('rediss'));
    case 'redis+cluster':
    case 'rediss+cluster':
      return cluster(text.slice(scheme.length + 3), scheme.startsWith('rediss'));
    default:
      throw new RedisUrlError(`unsupported scheme ${scheme === undefined ? '(none)' : JSON.stringify(`${scheme}://`)}`);
  }
}

function single(text: string): string {
  try {
    return new URL(text).toString();
  } catch {
    throw new RedisUrlError('not a valid redis:// URL');
  }
}

/** Splits `[user:pass@]hosts[/path][?query]` after the scheme. */
function parts(rest: string): { username?: string; password?: string; hosts: string; path: string; query: URLSearchParams } {
  const q = rest.indexOf('?');
  const query = new URLSearchParams(q >= 0 ? rest.slice(q + 1) : '');
  const beforeQuery = q >= 0 ? rest.slice(0, q) : rest;
  // The last '@' before the path ends the credentials: a password may contain '@' when encoded.
  const slash = beforeQuery.indexOf('/', beforeQuery.lastIndexOf('@') + 1);
  const authority = slash >= 0 ? beforeQuery.slice(0, slash) : beforeQuery;
  const path = slash >= 0 ? beforeQuery.slice(slash + 1) : '';
  const at = authority.lastIndexOf('@');
  const hosts = at >= 0 ? authority.slice(at + 1) : authority;
  if (at < 0) return { hosts, path, query };
  const creds = authority.slice(0, at);
  const colon = creds.indexOf(':');
  const username = decode(colon >= 0 ? creds.slice(0, colon) : creds);
  const password = colon >= 0 ? decode(creds.slice(colon + 1)) : undefined;
  return { hosts, path, query, ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new RedisUrlError('credentials are not valid percent-encoding');
  }
}

function addresses(hosts: string, defaultPort: number, what: string): RedisNodeAddress[] {
  if (hosts.trim() === '') throw new RedisUrlError(`no ${what} addresses`);
  return hosts.split(',').map((h) => {
    const m = /^(\[[0-9a-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/i.exec(h.trim());
    const port = m?.[2] === undefined ? defaultPort : Number(m[2]);
    if (!m || port < 1 || port > 65_535) throw new RedisUrlError(`${what} address ${JSON.stringify(h)} is not host[:port]`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  });
}

function sentinel(rest: string, tls: boolean): RedisTarget {
  const p = parts(rest);
  const sentinels = addresses(p.hosts, DEFAULT_SENTINEL_PORT, 'sentinel');
  const [masterName, dbText, ...extra] = p.path.split('/');
  if (!masterName) throw new RedisUrlError('redis+sentinel:// needs the master name as its path (…/mymaster)');
  if (extra.length > 0 || (dbText !== undefined && dbText !== '' && !/^\d{1,2}$/.test(dbText))) {
    throw new RedisUrlError('after the master name only a database number may follow (…/mymaster/0)');
  }
  const unknown = [...p.query.keys()].filter((k) => !SENTINEL_QUERY_KEYS.has(k));
  if (unknown.length > 0) throw new RedisUrlError(`unknown query parameter(s) ${unknown.join(', ')} (allowed: sentinelPassword, sentinelUsername)`);
  return {
    kind: 'sentinel',
    sentinels,
    masterName: decode(masterName),
    username: p.username,
    password: p.password,
    sentinelUsername: p.query.get('sentinelUsername') ?? undefined,
    sentinelPassword: p.query.get('sentinelPassword') ?? undefined,
    db: dbText ? Number(dbText) : 0,
    tls,
  };
}

function cluster(rest: string, tls: boolean): RedisTarget {
  const p = parts(rest);
  const nodes = addresses(p.hosts, DEFAULT_REDIS_PORT, 'cluster node');
  if (p.path !== '') throw new RedisUrlError('redis+cluster:// takes no path: Redis Cluster has only database 0');
  if ([...p.query.keys()].length > 0) throw new RedisUrlError('redis+cluster:// takes no query parameters');
  return { kind: 'cluster', nodes, username: p.username, password: p.password, tls };
}

/** Where a target points, for log lines and the status page: never a password. */
export function describeRedisTarget(target: RedisTarget): string {
  const list = (nodes: readonly RedisNodeAddress[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  switch (target.kind) {
    case 'single': {
      const u = new URL(target.url);
      return `${u.hostname}:${u.port || DEFAULT_REDIS_PORT}`;
    }
    case 'sentinel':
      return `primary "${target.masterName}" via sentinels ${list(target.sentinels)}`;
    case 'cluster':
      return `cluster seeded by ${list(target.nodes)}`;
    default: {
      const exhaustive: never = target;
      throw new Error(`unknown Redis target ${JSON.stringify(exhaustive)}`);
    }
  }
}
