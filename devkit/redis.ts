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
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { spawnProcess, type ManagedProcess } from './processes.ts';
import type { Reaper } from './reaper.ts';

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
