/**
 * A real, throwaway `redis-server`: its own port on 127.0.0.1 (never the system Redis on 6379),
 * no persistence, so a restart gives a blank server — which is what losing Redis looks like. A
 * test can SIGKILL / SIGSTOP / restart it; the cluster and the benchmarks run one beside their
 * gateways.
 *
 * ```ts
 * const redis = await startRedis();
 * afterAll(() => redis.stop());
 * new Redis(redis.url);
 * ```
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, freePorts } from './ports.ts';
import { spawnProcess, type ManagedProcess } from './processes.ts';
import type { Reaper } from './reaper.ts';
import { until } from './wait.ts';

/** A cold redis-server is ready in ~10 ms; 10 s only matters on a starved CI box. */
const DEFAULT_START_TIMEOUT_MS = 10_000;
/** Grace for SIGTERM before SIGKILL in `stop()`, ms. */
const STOP_GRACE_MS = 5_000;
/** Attempts when a free port is taken between probing it and redis binding it. */
const PORT_ATTEMPTS = 5;

/** The redis-server to run (PORTICO_TEST_REDIS_SERVER, else Debian's or a local install); undefined when none is installed. */
export function redisServerBin(): string | undefined {
  return process.env.PORTICO_TEST_REDIS_SERVER ?? ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
}

export interface RedisOptions {
  /** Default: a free port (retried if another process takes it first). */
  readonly port?: number;
  /** The server's log; default none (its tail in memory only). */
  readonly logFile?: string;
  readonly reaper?: Reaper;
  /** Pin to this CPU (`taskset`). */
  readonly cpu?: number;
  readonly startTimeoutMs?: number;
  /** More redis-server arguments, after the defaults (e.g. `--replicaof`, `--cluster-enabled`). */
  readonly args?: readonly string[];
}

export interface RunningRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Pid of the current process (changes after `restart()`). */
  readonly pid: number;
  /** The current process. */
  readonly process: ManagedProcess;
  /**
   * Send a signal. For terminating signals (SIGKILL, SIGTERM, SIGINT) resolves once the process
   * has exited; for SIGSTOP / SIGCONT, once sent.
   */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Stop the current process if still running, then start a blank one on the same port. */
  restart(): Promise<void>;
  /** SIGCONT + SIGTERM (SIGKILL after a grace period). Idempotent. */
  stop(): Promise<void>;
}

export async function startRedis(options: RedisOptions = {}): Promise<RunningRedis> {
  let lastError: unknown;
  for (let attempt = 0; attempt < (options.port === undefined ? PORT_ATTEMPTS : 1); attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return handle(port, options, await spawnRedis(port, options));
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

function handle(port: number, options: RedisOptions, first: ManagedProcess): RunningRedis {
  let proc = first;
  let stopped = false;

  async function terminate(): Promise<void> {
    if (!proc.running()) return;
    proc.signal('SIGCONT'); // a stopped process cannot exit
    await proc.stop(STOP_GRACE_MS);
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return proc.pid;
    },
    get process() {
      return proc;
    },
    async kill(signal) {
      if (!proc.running()) return;
      const terminating = signal !== 'SIGSTOP' && signal !== 'SIGCONT' && signal !== 'SIGTSTP';
      if (terminating && signal !== 'SIGKILL') proc.signal('SIGCONT');
      proc.signal(signal);
      if (terminating) await proc.exited;
    },
    async restart() {
      if (stopped) throw new Error('startRedis: restart() after stop()');
      await terminate();
      proc = await spawnRedis(port, options);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate();
    },
  };
}

/** Spawns redis-server and resolves once it accepts connections; its folder goes when it exits. */
async function spawnRedis(port: number, options: RedisOptions): Promise<ManagedProcess> {
  const bin = redisServerBin() ?? 'redis-server';
  const dir = mkdtempSync(join(tmpdir(), 'portico-redis-'));
  // prettier-ignore
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    // Shared state here is rebuildable (buckets, APQ, stale values): nothing to persist.
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--daemonize', 'no',
    '--loglevel', 'notice',
    '--logfile', '',
    ...(options.args ?? []),
  ];
  const proc = spawnProcess({ name: 'redis', command: bin, args, cwd: dir, logFile: options.logFile, reaper: options.reaper, cpu: options.cpu });
  void proc.exited.then(() => rmSync(dir, { recursive: true, force: true }));
  try {
    await proc.waitForOutput(/Ready to accept connections/, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  } catch (error) {
    await proc.stop(0);
    throw new Error(`could not start ${bin} on port ${port}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return proc;
}

/** The sentinels' name for the primary they watch. */
export const SENTINEL_MASTER_NAME = 'portico';
/**
 * How long sentinels wait before calling a silent primary down, ms. Production uses 5-30 s; 1 s
 * keeps a test's failover at ~2-3 s.
 */
const SENTINEL_DOWN_AFTER_MS = 1_000;
/** Bound on the whole Sentinel group or Cluster coming up (gossip, replication, slot assignment). */
const HA_START_TIMEOUT_MS = 30_000;

export interface RunningSentinelGroup {
  /** The first primary (after a failover, `current()` tells who is primary). */
  readonly primary: RunningRedis;
  readonly replica: RunningRedis;
  readonly sentinels: readonly ManagedProcess[];
  readonly sentinelPorts: readonly number[];
  /** `redis+sentinel://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3/portico`, for PORTICO_REDIS_URL. */
  readonly url: string;
  /** Port of the primary the sentinels name now. */
  currentPrimaryPort(): Promise<number>;
  /** Stops every process it started, by pid. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A Sentinel group on loopback: a primary, a replica of it, and three `redis-server --sentinel`
 * processes whose config (`sentinel monitor portico 127.0.0.1 <port> 2`) is written to a temp dir.
 * Resolves once every sentinel knows the replica and the two other sentinels, so a failover can
 * be decided (quorum 2 of 3) as soon as the primary dies.
 */
export interface SentinelGroupOptions {
  readonly reaper?: Reaper;
  /** `requirepass` of the primary and replica (and `masterauth`, `sentinel auth-pass`); default none. */
  readonly password?: string;
  /** `requirepass` of the sentinels themselves (and `sentinel sentinel-pass`); default none. */
  readonly sentinelPassword?: string;
}

export async function startSentinelGroup(options: SentinelGroupOptions = {}): Promise<RunningSentinelGroup> {
  const { password: pw, sentinelPassword: spw } = options;
  const auth = pw ? ['--requirepass', pw, '--masterauth', pw] : [];
  const started: { stop(): Promise<unknown> }[] = [];
  const stopAll = async () => {
    for (const p of started.reverse()) await p.stop().catch(() => undefined);
  };
  try {
    const primary = await startRedis({ reaper: options.reaper, args: auth });
    started.push(primary);
    const replica = await startRedis({ reaper: options.reaper, args: [...auth, '--replicaof', '127.0.0.1', String(primary.port)] });
    started.push(replica);
    await withClient(
      replica.port,
      (c) => until('the replica to sync with its primary', async () => /master_link_status:up/.test(await c.info('replication')), HA_START_TIMEOUT_MS, 50),
      pw,
    );
    const sentinelPorts = await freePorts(3);
    const sentinels: ManagedProcess[] = [];
    for (const port of sentinelPorts) {
      const proc = spawnSentinel(port, primary.port, options);
      started.push({ stop: () => proc.stop(STOP_GRACE_MS) });
      sentinels.push(proc);
      await proc.waitForOutput(/\+monitor master/, DEFAULT_START_TIMEOUT_MS);
    }
    for (const port of sentinelPorts) {
      await withClient(
        port,
        (c) =>
          until(
            `sentinel :${port} to see the replica and the other two sentinels`,
            async () => {
              const fields = toFields((await c.call('SENTINEL', 'MASTER', SENTINEL_MASTER_NAME)) as string[]);
              return fields['num-slaves'] === '1' && fields['num-other-sentinels'] === '2';
            },
            HA_START_TIMEOUT_MS,
            100,
          ),
        spw,
      );
    }
    return {
      primary,
      replica,
      sentinels,
      sentinelPorts,
      url:
        `redis+sentinel://${pw ? `:${encodeURIComponent(pw)}@` : ''}${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${SENTINEL_MASTER_NAME}` +
        (spw ? `?sentinelPassword=${encodeURIComponent(spw)}` : ''),
      async currentPrimaryPort() {
        for (const port of sentinelPorts) {
          try {
            const addr = await withClient(port, (c) => c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME) as Promise<string[]>, spw);
            return Number(addr[1]);
          } catch {
            // this sentinel is gone; ask the next
          }
        }
        throw new Error('no sentinel answers');
      },
      stop: once(stopAll),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function spawnSentinel(port: number, primaryPort: number, options: SentinelGroupOptions): ManagedProcess {
  const dir = mkdtempSync(join(tmpdir(), 'portico-sentinel-'));
  // Sentinel rewrites its config file (it records what it learns), so it must be a writable file.
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      'daemonize no',
      `dir ${dir}`,
      `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${primaryPort} 2`,
      `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${SENTINEL_DOWN_AFTER_MS}`,
      `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 10000`,
      `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
      ...(options.password ? [`sentinel auth-pass ${SENTINEL_MASTER_NAME} ${options.password}`] : []),
      // Sentinels with a password must present it to each other too.
      ...(options.sentinelPassword ? [`requirepass ${options.sentinelPassword}`, `sentinel sentinel-pass ${options.sentinelPassword}`] : []),
      '',
    ].join('\n'),
  );
  const proc = spawnProcess({ name: `sentinel-${port}`, command: redisServerBin() ?? 'redis-server', args: [conf, '--sentinel'], cwd: dir, reaper: options.reaper });
  void proc.exited.then(() => rmSync(dir, { recursive: true, force: true }));
  return proc;
}

export interface RunningRedisCluster {
  /** The three primaries, each owning a third of the 16,384 slots. */
  readonly nodes: readonly RunningRedis[];
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`, for PORTICO_REDIS_URL. */
  readonly url: string;
  /** Stops every node, by pid. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A three-primary Redis Cluster on loopback (`--cluster-enabled yes` nodes joined by
 * `redis-cli --cluster create … --cluster-yes`, no replicas). Bus ports are chosen free too, not
 * port + 10,000. Resolves once every node reports `cluster_state:ok`. A node's `restart()` starts
 * it blank (its nodes.conf was in the old temp dir), outside the Cluster: a killed node stays lost.
 */
export async function startRedisCluster(options: { reaper?: Reaper } = {}): Promise<RunningRedisCluster> {
  const nodes: RunningRedis[] = [];
  const stopAll = async () => {
    for (const n of nodes) await n.stop().catch(() => undefined);
  };
  try {
    const ports = await freePorts(6);
    for (let i = 0; i < 3; i++) {
      // prettier-ignore
      const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(ports[i + 3]), '--cluster-node-timeout', '2000'];
      nodes.push(await startRedis({ port: ports[i]!, reaper: options.reaper, args }));
    }
    const cli = existsSync('/usr/bin/redis-cli') ? '/usr/bin/redis-cli' : 'redis-cli';
    await promisify(execFile)(cli, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-yes'], { timeout: HA_START_TIMEOUT_MS });
    for (const n of nodes) {
      await withClient(n.port, (c) =>
        until(`cluster node :${n.port} to report cluster_state:ok`, async () => /cluster_state:ok/.test((await c.call('CLUSTER', 'INFO')) as string), HA_START_TIMEOUT_MS, 50),
      );
    }
    return {
      nodes,
      url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
      stop: once(stopAll),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** `fn` at most once: later calls share the first call's promise (stop() is idempotent). */
function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

/** Runs `fn` with a short-lived plain client on a loopback port, then disconnects it. */
async function withClient<T>(port: number, fn: (c: Redis) => Promise<T>, password?: string): Promise<T> {
  const c = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...(password ? { password } : {}) });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

/** A flat [k1, v1, k2, v2, …] reply as an object. */
function toFields(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
