/**
 * Child processes for tests, benchmarks and the local cluster: each in its own process group (so
 * one signal reaches whatever it spawned too), its output kept (a tail in memory, all of it in an
 * optional log file), its exit observable, and always stopped by PID — SIGTERM, then SIGKILL
 * after a grace period. None outlives the process that started it: a plain exit or a crash
 * SIGKILLs every group still running, and a {@link Reaper} covers a SIGKILLed parent too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { PROJECT_ROOT } from './paths.ts';
import type { Reaper } from './reaper.ts';

/** Output kept in memory per process for error messages; the full output is in its log file. */
const OUTPUT_TAIL_CHARS = 64 * 1024;
/** SIGTERM → SIGKILL grace used by {@link ManagedProcess.stop} when none is given, ms. */
export const DEFAULT_STOP_GRACE_MS = 5_000;

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Short name for messages (`gw1`, `redis`, `subgraphs-demo`). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Default: this process's environment. APOLLO_TELEMETRY_DISABLED=true is always added. */
  readonly env?: NodeJS.ProcessEnv;
  /** Default: the project root, whatever the caller's working directory. */
  readonly cwd?: string;
  /** stdout and stderr are appended here; default none (the tail in memory only). */
  readonly logFile?: string;
  /** Pin to this CPU with `taskset -c`; default no pinning. */
  readonly cpu?: number;
  /** Registers the group with a reaper that kills it if this process dies without cleaning up. */
  readonly reaper?: Reaper;
}

export interface ManagedProcess {
  readonly name: string;
  /** Pid of the child, which is also its process group id. */
  readonly pid: number;
  readonly logFile: string | undefined;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  /** True until the process has exited. */
  running(): boolean;
  /** The last {@link OUTPUT_TAIL_CHARS} characters of stdout + stderr. */
  output(): string;
  /** Calls `listener` with every later complete line of stdout or stderr. */
  onLine(listener: (line: string) => void): void;
  /**
   * Resolves with the match once the output matches `pattern`; rejects if the process exits
   * first or after `timeoutMs`, with the output tail in the message.
   */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Sends `signal` to the whole process group; a no-op once exited. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM the group, SIGKILL it after `graceMs`; resolves on exit. Idempotent. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

/** Processes not yet exited, for the exit guard and {@link stopAllProcesses}. */
const live = new Set<ManagedProcess>();

// A crashed or finished run must not leave processes behind (synchronous: an `exit` handler).
process.on('exit', () => {
  for (const p of live) killGroup(p.pid, 'SIGKILL');
});

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** `exit code 0` / `signal SIGKILL`, for messages. */
export function describeExit(status: ExitStatus): string {
  return status.code !== null ? `exit code ${status.code}` : `signal ${status.signal ?? 'unknown'}`;
}

/** Starts `command` in a new process group. */
export function spawnProcess(options: SpawnOptions): ManagedProcess {
  const { name } = options;
  const [command, args] =
    options.cpu === undefined ? [options.command, options.args] : ['taskset', ['-c', String(options.cpu), options.command, ...options.args]];
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { ...(options.env ?? process.env), APOLLO_TELEMETRY_DISABLED: 'true' },
    // Own process group: `kill(-pid)` reaches the child and anything it spawns, and a Ctrl-C in
    // the terminal reaches only the parent, which then stops its children in order.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) {
    child.once('error', () => undefined); // reported by the throw below, not as an unhandled event
    throw new Error(`cannot start ${name}: ${command} ${args.join(' ')}`);
  }
  const pid = child.pid;
  options.reaper?.watch(pid);
  const log: WriteStream | undefined = options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: 'a' });
  let tail = '';
  const outputListeners = new Set<() => void>();
  const lineListeners = new Set<(line: string) => void>();
  const onStream = () => {
    let pending = '';
    return (chunk: Buffer) => {
      log?.write(chunk);
      const text = chunk.toString('utf8');
      tail = (tail + text).slice(-OUTPUT_TAIL_CHARS);
      if (lineListeners.size > 0) {
        pending += text;
        let nl: number;
        while ((nl = pending.indexOf('\n')) !== -1) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          for (const l of lineListeners) l(line);
        }
      }
      for (const l of outputListeners) l();
    };
  };
  child.stdout!.on('data', onStream());
  child.stderr!.on('data', onStream());

  let alive = true;
  const exited = new Promise<ExitStatus>((resolveExit) => {
    const done = (status: ExitStatus) => {
      if (!alive) return;
      alive = false;
      live.delete(managed);
      options.reaper?.forget(pid);
      resolveExit(status);
    };
    child.once('exit', (code, signal) => done({ code, signal }));
    // Spawn failures (ENOENT) arrive as 'error' without an 'exit'.
    child.once('error', (err) => {
      tail += `\n${name}: ${err.message}`;
      done({ code: null, signal: null });
    });
  });
  void exited.then(() => {
    for (const l of outputListeners) l();
    log?.end();
  });

  const signal = (sig: NodeJS.Signals) => {
    if (alive) killGroup(pid, sig);
  };

  let stopping: Promise<ExitStatus> | undefined;
  const managed: ManagedProcess = {
    name,
    pid,
    logFile: options.logFile,
    exited,
    running: () => alive,
    output: () => tail,
    onLine: (listener) => void lineListeners.add(listener),
    waitForOutput(pattern, timeoutMs) {
      return new Promise<RegExpExecArray>((resolveWait, reject) => {
        const check = () => {
          const match = pattern.exec(tail);
          if (match) done(undefined, match);
          else if (!alive) done(new Error(`${name} exited before printing ${pattern}:\n${tail.slice(-2_000)}`));
        };
        const timer = setTimeout(() => done(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${tail.slice(-2_000)}`)), timeoutMs);
        function done(err: Error | undefined, match?: RegExpExecArray) {
          clearTimeout(timer);
          outputListeners.delete(check);
          if (err) reject(err);
          else resolveWait(match!);
        }
        outputListeners.add(check);
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
        // Anything the child forked and left behind in its group goes too.
        killGroup(pid, 'SIGKILL');
        return status;
      })();
      return stopping;
    },
  };
  live.add(managed);
  return managed;
}

/** `node --import tsx <args>`: a TypeScript entry point of this project as a managed process. */
export function spawnTsx(options: Omit<SpawnOptions, 'command'>): ManagedProcess {
  return spawnProcess({ ...options, command: process.execPath, args: ['--import', 'tsx', ...options.args] });
}

/** Stops every process still running, in parallel. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}

let signalHandlersInstalled = false;
/**
 * For command-line tools (the benchmarks): Ctrl-C or SIGTERM stops every child, then exits
 * 130 / 143. Tests and the cluster script handle their signals themselves.
 */
export function stopAllOnSignals(): void {
  if (signalHandlersInstalled) return;
  signalHandlersInstalled = true;
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    process.stderr.write(`\n${signal}: stopping ${live.size} child process(es)…\n`);
    void stopAllProcesses().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));
}
