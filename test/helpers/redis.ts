/**
 * A real, throwaway `redis-server` for tests: own free port on 127.0.0.1, no persistence, so a
 * test can SIGKILL / SIGSTOP / restart it and get a blank server back. Never the system Redis.
 *
 * ```ts
 * const redis = await startRedis();
 * afterAll(() => redis.stop());
 * new Redis(redis.url);
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REDIS_SERVER = process.env.PORTICO_TEST_REDIS_SERVER ?? '/usr/bin/redis-server';
/** A cold redis-server is ready in ~10 ms; 10 s only matters on a starved CI box. */
const START_TIMEOUT_MS = 10_000;
/** Grace for SIGTERM before SIGKILL in `stop()`, ms. */
const STOP_GRACE_MS = 5_000;
/** Attempts when a free port is taken between probing it and redis binding it. */
const PORT_ATTEMPTS = 5;

export interface RunningRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Pid of the current process (changes after `restart()`). */
  readonly pid: number;
  /**
   * Send a signal. For terminating signals (SIGKILL, SIGTERM, SIGINT) resolves once the process
   * has exited; for SIGSTOP / SIGCONT, once sent.
   */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Stop the current process if still running, then start a blank one on the same port. */
  restart(): Promise<void>;
  /** SIGCONT + SIGTERM (SIGKILL after a grace period), remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
// A crashed test run must not leave servers behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startRedis(): Promise<RunningRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-redis-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    try {
      const child = await spawnRedis(port, dir);
      return handle(port, dir, child);
    } catch (error) {
      lastError = error;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`could not start ${REDIS_SERVER}: ${String(lastError)}`);
}

function handle(port: number, dir: string, first: ChildProcess): RunningRedis {
  let child = first;
  let stopped = false;

  async function kill(signal: NodeJS.Signals): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const terminating = signal !== 'SIGSTOP' && signal !== 'SIGCONT' && signal !== 'SIGTSTP';
    const exited = terminating ? exitOf(child) : Promise.resolve();
    if (terminating && signal !== 'SIGKILL') child.kill('SIGCONT'); // a stopped process cannot exit
    child.kill(signal);
    await exited;
  }

  async function terminate(): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = exitOf(child);
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.pid ?? -1;
    },
    kill,
    async restart() {
      if (stopped) throw new Error('startRedis: restart() after stop()');
      await terminate();
      child = await spawnRedis(port, dir);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Spawn and resolve once the server logs that it accepts connections. */
function spawnRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    REDIS_SERVER,
    [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      '--daemonize', 'no',
      '--loglevel', 'notice',
      '--logfile', '',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  live.add(child);
  child.once('exit', () => live.delete(child));
  return new Promise<ChildProcess>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`redis-server not ready within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    function fail(error: Error): void {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n${output}`));
    }
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.off('error', fail);
        // Keep draining so a chatty server never blocks on a full pipe.
        child.stdout?.removeAllListeners('data');
        child.stdout?.resume();
        resolve(child);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(new Error(`redis-server exited (${code ?? signal}) before it was ready`));
    child.once('error', fail);
    child.once('exit', onExit);
  });
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}
