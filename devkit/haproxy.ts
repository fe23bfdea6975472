/**
 * HAProxy for the local cluster and its tests: the committed `deploy/haproxy/haproxy.cfg`, run in
 * the foreground (`-db`) with its addresses given through the environment, checked with
 * `haproxy -c`, and its stats CSV read to learn what it thinks of each server.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { PROJECT_ROOT } from './paths.ts';
import { spawnProcess, type ManagedProcess } from './processes.ts';
import type { Reaper } from './reaper.ts';
import { until } from './wait.ts';

/** The committed configuration, shared with docker-compose. */
export const HAPROXY_CONFIG = resolve(PROJECT_ROOT, 'deploy/haproxy/haproxy.cfg');
/** Server names in the backend, in order; the config has exactly these three. */
export const HAPROXY_SERVERS = ['gw1', 'gw2', 'gw3'] as const;
/** Debian installs HAProxy in /usr/sbin, which is not on every user's PATH. */
export const HAPROXY_BIN = process.env.PORTICO_HAPROXY_BIN ?? (existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy');

export interface HaproxyOptions {
  /** Public listener port (loopback). */
  readonly port: number;
  /** Stats page + Prometheus exporter port (loopback). */
  readonly statsPort: number;
  /** `host:port` of each gateway instance, for gw1..gw3. */
  readonly servers: readonly string[];
  readonly logFile: string;
  readonly reaper?: Reaper;
  /** `notice` (server state changes) or `info` (also one line per request). Default notice. */
  readonly logLevel?: string;
}

/** The environment `haproxy.cfg` reads its addresses from. */
export function haproxyEnv(options: Pick<HaproxyOptions, 'port' | 'statsPort' | 'servers' | 'logLevel'>): Record<string, string> {
  if (options.servers.length !== HAPROXY_SERVERS.length) {
    throw new Error(`haproxy.cfg has ${HAPROXY_SERVERS.length} servers (${HAPROXY_SERVERS.join(', ')}); got ${options.servers.length} addresses`);
  }
  const env: Record<string, string> = {
    PORTICO_LB_BIND: `127.0.0.1:${options.port}`,
    PORTICO_LB_STATS_BIND: `127.0.0.1:${options.statsPort}`,
    PORTICO_LB_LOG_LEVEL: options.logLevel ?? 'notice',
  };
  options.servers.forEach((address, i) => (env[`PORTICO_LB_GW${i + 1}`] = address));
  return env;
}

/** Starts `haproxy -db -f deploy/haproxy/haproxy.cfg`; resolves once the stats page answers. */
export async function startHaproxy(options: HaproxyOptions, timeoutMs: number): Promise<ManagedProcess> {
  const proc = spawnProcess({
    name: 'haproxy',
    command: HAPROXY_BIN,
    args: ['-db', '-f', HAPROXY_CONFIG],
    env: { ...process.env, ...haproxyEnv(options) },
    logFile: options.logFile,
    reaper: options.reaper,
  });
  const statsUrl = `http://127.0.0.1:${options.statsPort}`;
  try {
    // HAProxy prints nothing when it is up; its stats listener answering is the signal.
    await until(`haproxy's stats page (${statsUrl})`, () => serverStates(statsUrl).then(() => true), {
      timeoutMs,
      intervalMs: 50,
      abortIf: () => (proc.running() ? undefined : 'haproxy exited at start'),
    });
  } catch (err) {
    await proc.stop(0);
    throw new Error(`${err instanceof Error ? err.message : String(err)}:\n${proc.output().slice(-2_000)}`);
  }
  return proc;
}

/** One backend server as HAProxy's stats CSV reports it. */
export interface ServerState {
  /** `UP`, `DOWN`, `UP 1/2` (going down), `DOWN 1/2` (coming up), `MAINT`, `no check`. */
  readonly status: string;
  /** Current sessions (requests in flight, in HTTP mode) on this server. */
  readonly current: number;
  /** Sessions sent to this server since start. */
  readonly total: number;
  /** Connection errors / response errors / retries / redispatches counted by HAProxy. */
  readonly connectionErrors: number;
  readonly responseErrors: number;
  readonly retries: number;
  readonly redispatches: number;
}

/** States of the `portico` backend's servers, by name, from `<statsUrl>/stats;csv`. */
export async function serverStates(statsUrl: string): Promise<Record<string, ServerState>> {
  const res = await fetch(`${statsUrl}/stats;csv`, { signal: AbortSignal.timeout(2_000) });
  if (!res.ok) throw new Error(`haproxy stats: HTTP ${res.status}`);
  const lines = (await res.text()).split('\n').filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const col = (name: string) => header.indexOf(name);
  const out: Record<string, ServerState> = {};
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    if (cells[col('pxname')] !== 'portico') continue;
    const name = cells[col('svname')] ?? '';
    if (name === 'FRONTEND' || name === 'BACKEND') continue;
    const num = (c: string) => Number(cells[col(c)] || 0);
    out[name] = {
      status: cells[col('status')] ?? '',
      current: num('scur'),
      total: num('stot'),
      connectionErrors: num('econ'),
      responseErrors: num('eresp'),
      retries: num('wretr'),
      redispatches: num('wredis'),
    };
  }
  return out;
}

export interface ConfigCheck {
  readonly ok: boolean;
  /** stdout + stderr of `haproxy -c`. */
  readonly output: string;
}

/**
 * `haproxy -c -f <config>` with `env` for the config's variables. `zeroWarning` adds `-dW`, which
 * fails the check on any warning as well.
 */
export function checkHaproxyConfig(env: Record<string, string> = {}, options: { zeroWarning?: boolean; config?: string } = {}): ConfigCheck {
  const args = [...(options.zeroWarning ? ['-dW'] : []), '-c', '-f', options.config ?? HAPROXY_CONFIG];
  const r = spawnSync(HAPROXY_BIN, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/**
 * Resolves with the server's state once `accept(status)` holds for it; bounded by `timeoutMs`.
 * Polls the stats CSV: there is no event to subscribe to across the process boundary.
 */
export function waitForServer(statsUrl: string, server: string, accept: (status: string) => boolean, timeoutMs = 15_000): Promise<ServerState> {
  return until(
    `haproxy to see ${server} in the expected state`,
    async () => {
      const s = (await serverStates(statsUrl))[server];
      return s && accept(s.status) ? s : undefined;
    },
    timeoutMs,
    50,
  );
}

/** Exactly `UP` (not `UP 1/2`, which is an UP server that failed a check and is going down). */
export const isUp = (status: string) => status === 'UP';
/** `DOWN` or `MAINT`: taking no traffic. */
export const isDown = (status: string) => status === 'DOWN' || status.startsWith('MAINT');
