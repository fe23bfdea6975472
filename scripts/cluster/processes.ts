/**
 * Child processes of the local cluster: each in its own process group (so a signal reaches
 * whatever it spawned too), its output appended to a log file, its exit observable, and every
 * group registered with a reaper that kills it if the parent dies without cleaning up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Project root: commands run from here whatever the caller's working directory. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Output kept in memory per process for error messages; the full output is in its log file. */
const OUTPUT_TAIL_CHARS = 64 * 1024;
/** SIGTERM → SIGKILL grace used by {@link ManagedProcess.stop} when none is given, ms. */
export const DEFAULT_STOP_GRACE_MS = 5_000;

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  /** Pid of the child, which is also its process group id. */
  readonly pid: number;
  readonly logFile: string;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  /** True until the process has exited. */
  running(): boolean;
  /** The last {@link OUTPUT_TAIL_CHARS} characters of stdout + stderr. */
  output(): string;
  /**
   * Resolves once the output matches `pattern`; rejects if the process exits first or after
   * `timeoutMs`, with the output tail in the message.
   */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** Sends `signal` to the whole process group; a no-op once exited. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM the group, SIGKILL it after `graceMs`; resolves on exit. Idempotent. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

export interface SpawnOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
  readonly reaper?: Reaper;
}

/** Starts `command` in a new process group, output to `options.logFile`. */
export function spawnManaged(name: string, command: string, args: readonly string[], options: SpawnOptions): ManagedProcess {
  const log: WriteStream = createWriteStream(options.logFile, { flags: 'a' });
  const child: ChildProcess = spawn(command, args, {
    cwd: PROJECT_ROOT,
    env: { ...options.env, APOLLO_TELEMETRY_DISABLED: 'true' },
    // Own process group: `kill(-pid)` reaches the child and anything it spawns, and a Ctrl-C in
    // the terminal reaches only the cluster script, which then stops everything in order.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`cannot start ${name}: ${command} ${args.join(' ')}`);
  const pid = child.pid;
  options.reaper?.watch(pid);
  let tail = '';
  const listeners = new Set<() => void>();
  const onChunk = (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onChunk);
  child.stderr!.on('data', onChunk);
  let alive = true;
  const exited = new Promise<ExitStatus>((resolveExit) => {
    child.once('exit', (code, signal) => {
      alive = false;
      options.reaper?.forget(pid);
      resolveExit({ code, signal });
    });
    // spawn failures (ENOENT) arrive as 'error' without an 'exit'.
    child.once('error', (err) => {
      alive = false;
      options.reaper?.forget(pid);
      tail += `\n${name}: ${err.message}`;
      resolveExit({ code: null, signal: null });
    });
  });
  void exited.then(() => {
    for (const l of listeners) l();
    log.end();
  });

  function signal(sig: NodeJS.Signals): void {
    if (!alive) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // Already gone between the check and the kill.
    }
  }

  let stopping: Promise<ExitStatus> | undefined;
  return {
    name,
    pid,
    logFile: options.logFile,
    exited,
    running: () => alive,
    output: () => tail,
    waitForOutput(pattern, timeoutMs) {
      return new Promise<void>((resolveWait, reject) => {
        const check = () => {
          if (pattern.test(tail)) done();
          else if (!alive) done(new Error(`${name} exited before printing ${pattern}:\n${tail.slice(-2_000)}`));
        };
        const timer = setTimeout(() => done(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${tail.slice(-2_000)}`)), timeoutMs);
        function done(err?: Error) {
          clearTimeout(timer);
          listeners.delete(check);
          if (err) reject(err);
          else resolveWait();
        }
        listeners.add(check);
        check();
      });
    },
    signal,
    stop(graceMs = DEFAULT_STOP_GRACE_MS) {
      stopping ??= (async () => {
        if (!alive) return exited;
        signal('SIGTERM');
        const timer = setTimeout(() => signal('SIGKILL'), graceMs);
        const status = await exited;
        clearTimeout(timer);
        return status;
      })();
      return stopping;
    },
  };
}

/**
 * A detached helper process that holds a pipe from this one. When the pipe closes — because
 * this process exited, cleanly or not (SIGKILL, crash) — it kills every process group still
 * registered: no gateway, mock, Redis or HAProxy outlives the cluster that started it.
 */
export interface Reaper {
  watch(pgid: number): void;
  forget(pgid: number): void;
  /** Closes the pipe; the reaper kills what is still registered (nothing, after a clean stop). */
  close(): void;
}

export function startReaper(): Reaper {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(PROJECT_ROOT, 'scripts/cluster/reaper.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, APOLLO_TELEMETRY_DISABLED: 'true' },
    // Its own group: the signal that stops the cluster (Ctrl-C, the group kill of a test runner)
    // must not stop the reaper too.
    detached: true,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  // The reaper must never keep this process alive, nor be waited for.
  child.unref();
  const pipe = child.stdin!;
  (pipe as unknown as { unref?: () => void }).unref?.();
  pipe.on('error', () => undefined);
  const send = (line: string) => {
    if (!pipe.destroyed) pipe.write(`${line}\n`);
  };
  return {
    watch: (pgid) => send(`+${pgid}`),
    forget: (pgid) => send(`-${pgid}`),
    close: () => pipe.end(),
  };
}
