/**
 * The local high-availability topology, as real processes on loopback:
 *
 * ```
 * clients ─▶ HAProxy :8080 ─▶ gateway gw1 :4010 (ops :8089) ─┬─▶ mocks :4001-4004, dev IdP :4005
 *                          ├─▶ gateway gw2 :4011 (ops :8090) ─┤
 *                          └─▶ gateway gw3 :4012 (ops :8091) ─┴─▶ Redis :6390
 * ```
 *
 * `npm run cluster` (scripts/cluster/main.ts) runs it for people and the HA smoke check; the cluster
 * tests (test/cluster/ha.test.ts) run it on free ports and kill, restart and break its parts.
 * Nothing is ever restarted automatically: when an instance dies, the others carry the traffic,
 * which is the point of the exercise.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEV_AUDIENCE, DEV_ISSUER } from '../../subgraphs-mock/idp.ts';
import { DEFAULT_MOCK_PORTS, MOCK_NAMES, type MockName } from '../../subgraphs-mock/subgraph.ts';
import { HAPROXY_SERVERS, startHaproxy } from '../../devkit/haproxy.ts';
import { PROJECT_ROOT } from '../../devkit/paths.ts';
import { spawnProcess, spawnTsx, type ManagedProcess } from '../../devkit/processes.ts';
import { startReaper, type Reaper } from '../../devkit/reaper.ts';
import { startRedis } from '../../devkit/redis.ts';
import { until } from '../../devkit/wait.ts';
import { PORTICO_NODE_FLAGS } from '../../src/runtime/nodeFlags.ts';

/** Gateway ports; HAProxy's config has these as defaults (and three servers, gw1..gw3). */
export const DEFAULT_GATEWAY_PORTS = [4010, 4011, 4012] as const;
/** Ops listeners, one per instance; 8088 (the single-instance default) stays free for `npm start`. */
export const DEFAULT_OPS_PORTS = [8089, 8090, 8091] as const;
export const DEFAULT_LB_PORT = 8080;
export const DEFAULT_LB_STATS_PORT = 8404;
/** Not 6379: the cluster never touches a Redis it did not start. */
export const DEFAULT_REDIS_PORT = 6390;
export const DEFAULT_IDP_PORT = 4005;
/**
 * Demo / load-test setting, NOT a production quota: every request through HAProxy comes from one
 * loopback address, i.e. one anonymous subject, so the default 60/min would turn a load test
 * into a 429 test. Override with PORTICO_RATE_LIMITS.
 */
export const CLUSTER_RATE_LIMITS = 'anonymous=1000000/1m';
/** Bound on each start step (Redis, mocks, one gateway, HAProxy), ms: tsx compiles on first run. */
export const DEFAULT_START_TIMEOUT_MS = 45_000;

export interface ClusterOptions {
  /** One port per instance; exactly three (HAProxy's backend has gw1..gw3). */
  readonly gatewayPorts: readonly number[];
  readonly opsPorts: readonly number[];
  readonly lbPort: number;
  readonly lbStatsPort: number;
  readonly redisPort: number;
  readonly mockPorts: Readonly<Record<MockName, number>>;
  readonly idpPort: number;
  /** Folder for one log file per process; default a new temporary folder. */
  readonly logDir?: string;
  /**
   * Extra environment for every gateway, over the cluster defaults and the caller's
   * environment (per-instance settings — ports, Redis URL — always win).
   */
  readonly gatewayEnv?: Readonly<Record<string, string>>;
  /** HAProxy log level: `notice` (server state changes, the default) or `info` (every request). */
  readonly lbLogLevel?: string;
  readonly startTimeoutMs?: number;
  /** Called with one human-readable line per notable event (a process exiting, mostly). */
  readonly onEvent?: (line: string) => void;
  /**
   * Awaited once a new gateway process answers ready on its own port, before its start
   * resolves (`startCluster`, `startInstance`). The cluster tests warm a fresh process here: at
   * the cluster's start this runs before HAProxy exists; for a restarted instance HAProxy's
   * checks may admit it meanwhile. A rejection fails that start.
   */
  readonly warmUp?: (instance: GatewayInstance) => Promise<void>;
}

/** Options from the environment, defaults above. Throws naming the variable when one is invalid. */
export function clusterOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ClusterOptions {
  const port = (name: string, def: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new Error(`${name}: expected a port 1..65535, got ${JSON.stringify(raw)}`);
    return n;
  };
  const ports = (name: string, def: readonly number[]) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    const list = raw.split(',').map((p) => Number(p.trim()));
    if (list.length !== HAPROXY_SERVERS.length || list.some((n) => !Number.isInteger(n) || n < 1 || n > 65_535)) {
      throw new Error(`${name}: expected ${HAPROXY_SERVERS.length} comma-separated ports, got ${JSON.stringify(raw)}`);
    }
    return list;
  };
  return {
    gatewayPorts: ports('PORTICO_CLUSTER_GATEWAY_PORTS', DEFAULT_GATEWAY_PORTS),
    opsPorts: ports('PORTICO_CLUSTER_OPS_PORTS', DEFAULT_OPS_PORTS),
    lbPort: port('PORTICO_CLUSTER_LB_PORT', DEFAULT_LB_PORT),
    lbStatsPort: port('PORTICO_CLUSTER_LB_STATS_PORT', DEFAULT_LB_STATS_PORT),
    redisPort: port('PORTICO_CLUSTER_REDIS_PORT', DEFAULT_REDIS_PORT),
    // The variables subgraphs-mock/main.ts reads itself.
    mockPorts: Object.fromEntries(MOCK_NAMES.map((n) => [n, port(`PORTICO_MOCK_${n.toUpperCase()}_PORT`, DEFAULT_MOCK_PORTS[n])])) as Record<MockName, number>,
    idpPort: port('PORTICO_MOCK_IDP_PORT', DEFAULT_IDP_PORT),
    logDir: env.PORTICO_CLUSTER_LOG_DIR || undefined,
    lbLogLevel: env.PORTICO_LB_LOG_LEVEL || undefined,
  };
}

export interface GatewayInstance {
  /** `gw1`..`gw3`, as in HAProxy's backend. */
  readonly name: string;
  readonly port: number;
  readonly opsPort: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `http://127.0.0.1:<opsPort>` */
  readonly opsUrl: string;
  readonly process: ManagedProcess;
}

export interface Cluster {
  /** `http://127.0.0.1:<lbPort>`: where clients go. */
  readonly lbUrl: string;
  /** HAProxy's stats page base (`/stats`, `/stats;csv`, `/metrics`). */
  readonly lbStatsUrl: string;
  readonly redisUrl: string;
  readonly jwksUrl: string;
  /** Base URL of each mock (`/graphql`, `/faults`, `/stats`). */
  readonly mockUrls: Readonly<Record<MockName, string>>;
  readonly logDir: string;
  readonly options: ClusterOptions;
  /** The current process of each slot (0..2), running or not. */
  instance(slot: number): GatewayInstance;
  readonly instances: readonly GatewayInstance[];
  /** Starts a new process in `slot` (the previous one must have exited); resolves when ready. */
  startInstance(slot: number): Promise<GatewayInstance>;
  readonly haproxy: ManagedProcess;
  readonly mocks: ManagedProcess;
  /** The current Redis process. */
  redis(): ManagedProcess;
  /** Starts a blank Redis on the same port (the previous one must have exited). */
  restartRedis(): Promise<ManagedProcess>;
  /** Stops everything: HAProxy first (no new traffic), then gateways, mocks, Redis. Idempotent. */
  stop(): Promise<void>;
  /** A table of what runs where, for people. */
  describe(): string;
}

/** Starts the whole topology; on any failure stops what it started and rethrows. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  if (options.gatewayPorts.length !== HAPROXY_SERVERS.length || options.opsPorts.length !== HAPROXY_SERVERS.length) {
    throw new Error(`the cluster has ${HAPROXY_SERVERS.length} instances: give ${HAPROXY_SERVERS.length} gateway and ops ports`);
  }
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const logDir = options.logDir ?? mkdtempSync(join(tmpdir(), 'portico-cluster-'));
  mkdirSync(logDir, { recursive: true });
  const logFile = (name: string) => join(logDir, `${name}.log`);
  const event = options.onEvent ?? (() => undefined);
  const reaper: Reaper = startReaper();
  const started: ManagedProcess[] = [];
  const track = (p: ManagedProcess) => {
    started.push(p);
    return p;
  };

  const redisUrl = `redis://127.0.0.1:${options.redisPort}`;
  const mockUrls = Object.fromEntries(MOCK_NAMES.map((n) => [n, `http://127.0.0.1:${options.mockPorts[n]}`])) as Record<MockName, string>;
  const jwksUrl = `http://127.0.0.1:${options.idpPort}/.well-known/jwks.json`;
  let stopping = false;

  const watchExit = (p: ManagedProcess) =>
    void p.exited.then((s) => {
      if (!stopping) event(`${p.name} (pid ${p.pid}) exited (${s.signal ?? `code ${s.code}`}); not restarted`);
    });

  function gatewayEnv(slot: number): NodeJS.ProcessEnv {
    const defaults: Record<string, string> = {
      // Like `npm start` (scripts/dev.ts): development mode trusting the dev IdP.
      NODE_ENV: 'development',
      PORTICO_JWKS_URL: jwksUrl,
      PORTICO_JWT_ISSUER: DEV_ISSUER,
      PORTICO_JWT_AUDIENCE: DEV_AUDIENCE,
      PORTICO_FALLBACKS: 'review:Product=stale',
      PORTICO_RATE_LIMITS: CLUSTER_RATE_LIMITS,
    };
    const perInstance: Record<string, string> = {
      PORT: String(options.gatewayPorts[slot]),
      PORTICO_HOST: '127.0.0.1',
      PORTICO_OPS_PORT: String(options.opsPorts[slot]),
      PORTICO_OPS_HOST: '127.0.0.1',
      PORTICO_REDIS_URL: redisUrl,
      // HAProxy appends exactly one X-Forwarded-For entry (option forwardfor).
      PORTICO_TRUSTED_PROXY_HOPS: '1',
      // The local fallback splits each quota by this while Redis is away.
      PORTICO_RATE_LIMIT_INSTANCES: String(HAPROXY_SERVERS.length),
      PORTICO_SUBGRAPH_URLS: MOCK_NAMES.map((n) => `${n}=${mockUrls[n]}/graphql`).join(','),
      APOLLO_TELEMETRY_DISABLED: 'true',
    };
    return { ...defaults, ...process.env, ...options.gatewayEnv, ...perInstance };
  }

  const instances: GatewayInstance[] = [];
  async function startInstance(slot: number): Promise<GatewayInstance> {
    const previous = instances[slot];
    if (previous?.process.running()) throw new Error(`${previous.name} is still running (pid ${previous.process.pid})`);
    const name = HAPROXY_SERVERS[slot]!;
    const port = options.gatewayPorts[slot]!;
    const opsPort = options.opsPorts[slot]!;
    const proc = track(
      spawnProcess({ name, command: process.execPath, args: [...PORTICO_NODE_FLAGS, '--import', 'tsx', 'src/main.ts'], env: gatewayEnv(slot), logFile: logFile(name), reaper }),
    );
    const url = `http://127.0.0.1:${port}`;
    const instance: GatewayInstance = { name, port, opsPort, url, opsUrl: `http://127.0.0.1:${opsPort}`, process: proc };
    instances[slot] = instance;
    await waitReady(proc, `${url}/health/ready`, timeoutMs);
    watchExit(proc);
    await options.warmUp?.(instance);
    return instance;
  }

  let redis: ManagedProcess | undefined;
  async function restartRedis(): Promise<ManagedProcess> {
    if (redis?.running()) throw new Error(`redis is still running (pid ${redis.pid})`);
    redis = track((await startRedis({ port: options.redisPort, logFile: logFile('redis'), reaper, startTimeoutMs: timeoutMs })).process);
    watchExit(redis);
    return redis;
  }

  async function stopAll(): Promise<void> {
    stopping = true;
    const live = (names: (p: ManagedProcess) => boolean) => started.filter((p) => p.running() && names(p));
    // HAProxy first so no request meets a stopping instance; gateways skip their drain (the
    // second SIGTERM forces the exit: nobody is left to drain for); then what they depend on.
    await Promise.all(live((p) => p.name === 'haproxy').map((p) => p.stop(2_000)));
    const gateways = live((p) => p.name.startsWith('gw'));
    for (const g of gateways) g.signal('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    await Promise.all(gateways.map((g) => g.stop(2_000)));
    await Promise.all(live(() => true).map((p) => p.stop(2_000)));
    reaper.close();
  }

  try {
    const mocksEnv: NodeJS.ProcessEnv = { ...process.env, PORTICO_MOCK_IDP_PORT: String(options.idpPort) };
    for (const n of MOCK_NAMES) mocksEnv[`PORTICO_MOCK_${n.toUpperCase()}_PORT`] = String(options.mockPorts[n]);
    // Mocks and the dev IdP share one child process (startDemoBackends), started alongside Redis.
    const mocks = track(spawnTsx({ name: 'mocks', args: ['subgraphs-mock/main.ts'], env: mocksEnv, logFile: logFile('mocks'), reaper }));
    await Promise.all([restartRedis(), mocks.waitForOutput(/dev IdP/, timeoutMs)]);
    watchExit(mocks);
    await Promise.all(HAPROXY_SERVERS.map((_, slot) => startInstance(slot)));
    const haproxy = track(
      await startHaproxy(
        {
          port: options.lbPort,
          statsPort: options.lbStatsPort,
          servers: options.gatewayPorts.map((p) => `127.0.0.1:${p}`),
          logFile: logFile('haproxy'),
          reaper,
          logLevel: options.lbLogLevel,
        },
        timeoutMs,
      ),
    );
    const lbUrl = `http://127.0.0.1:${options.lbPort}`;
    await waitReady(haproxy, `${lbUrl}/health/ready`, timeoutMs);
    watchExit(haproxy);

    let stopped: Promise<void> | undefined;
    const cluster: Cluster = {
      lbUrl,
      lbStatsUrl: `http://127.0.0.1:${options.lbStatsPort}`,
      redisUrl,
      jwksUrl,
      mockUrls,
      logDir,
      options,
      instance: (slot) => instances[slot]!,
      get instances() {
        return [...instances];
      },
      startInstance,
      haproxy,
      mocks,
      redis: () => redis!,
      restartRedis,
      stop: () => (stopped ??= stopAll()),
      describe: () => describeCluster(cluster),
    };
    return cluster;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Polls `url` until it answers 200; fails early if `proc` exits. */
async function waitReady(proc: ManagedProcess, url: string, timeoutMs: number): Promise<void> {
  const answers200 = () =>
    fetch(url, { signal: AbortSignal.timeout(1_000) }).then(async (r) => {
      await r.arrayBuffer();
      return r.status === 200;
    });
  try {
    await until(`${url} to answer 200`, answers200, { timeoutMs, intervalMs: 50, abortIf: () => (proc.running() ? undefined : `${proc.name} exited first`) });
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}:\n${proc.output().slice(-2_000)}`);
  }
}

function describeCluster(c: Cluster): string {
  const rows: [string, string, string, string][] = [['', 'address', 'pid', 'log']];
  const row = (what: string, address: string, proc: ManagedProcess | undefined) =>
    rows.push([what, address, proc ? String(proc.pid) : '', proc ? (proc.logFile ?? '').replace(`${c.logDir}/`, '') : '']);
  row('HAProxy', `${c.lbUrl}/graphql`, c.haproxy);
  row('HAProxy stats', `${c.lbStatsUrl}/stats  (Prometheus: /metrics)`, undefined);
  for (const g of c.instances) row(`gateway ${g.name}`, `${g.url}  ops ${g.opsUrl}/status`, g.process);
  row('Redis', c.redisUrl, c.redis());
  row('mocks', MOCK_NAMES.map((n) => `${n} :${c.options.mockPorts[n]}`).join(', '), c.mocks);
  row('dev IdP', c.jwksUrl, undefined);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => `  ${r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}`.trimEnd());
  return [...lines, '', `  logs: ${resolve(PROJECT_ROOT, c.logDir)}`].join('\n');
}
