/**
 * Child processes of the benchmark: spawned in their own process group (optionally pinned to a
 * core with `taskset`), logged to a file, and always stopped by PID — the whole group, SIGTERM
 * then SIGKILL — on success, error, Ctrl-C or a crash of the harness.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Grace between SIGTERM and SIGKILL when stopping a child, in ms. */
const STOP_GRACE_MS = 5_000;
/** Lines of output kept per child for error messages. */
const TAIL_LINES = 40;

export interface ChildOptions {
  /** Short name for logs and messages. */
  name: string;
  /** Arguments after the node executable (or after `command`). */
  nodeArgs: string[];
  /** Run this executable instead of Node (e.g. redis-server). */
  command?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Pin to this CPU with `taskset -c`; undefined = no pinning. */
  cpu: number | undefined;
  /** stdout and stderr are appended here. */
  logPath: string;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<string>;
  hasExited(): boolean;
  /** The last lines of stdout+stderr, for error messages. */
  tail(): string;
  /** Number of output lines seen so far that contain `marker`. */
  countLines(marker: string): number;
  /**
   * Resolves with the first stdout line starting with `prefix` (prefix stripped).
   * @throws when the child exits first or `timeoutMs` passes.
   */
  waitForLine(prefix: string, timeoutMs: number): Promise<string>;
  /** SIGTERM to the process group, SIGKILL after {@link STOP_GRACE_MS}. Idempotent. */
  stop(): Promise<void>;
}

const live = new Set<Child>();

/** Kills every live child's process group now (synchronous; for `exit` handlers). */
function killAllSync(): void {
  for (const child of live) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Stops every live child, in parallel. */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop()));
}

let handlersInstalled = false;
/**
 * Makes sure no child outlives the harness: Ctrl-C / SIGTERM stop them all (then exit 130/143),
 * and a crash or plain exit SIGKILLs whatever is left.
 */
export function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    process.stderr.write(`\n${signal}: stopping ${live.size} child process(es)…\n`);
    void stopAllChildren().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));
  process.on('exit', killAllSync);
}

export function spawnChild(opts: ChildOptions): Child {
  const executable = opts.command ?? process.execPath;
  const [command, args] =
    opts.cpu === undefined
      ? [executable, opts.nodeArgs]
      : ['taskset', ['-c', String(opts.cpu), executable, ...opts.nodeArgs]];
  const proc = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`[${opts.name}] could not be spawned (${command})`);
  const pid = proc.pid;
  const log = createWriteStream(opts.logPath, { flags: 'a' });
  const tail: string[] = [];
  const markerCounts = new Map<string, number>();
  const lineWaiters = new Set<{ prefix: string; resolve: (rest: string) => void }>();
  let exitedFlag = false;

  const onLine = (line: string, fromStdout: boolean) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    for (const marker of markerCounts.keys()) {
      if (line.includes(marker)) markerCounts.set(marker, (markerCounts.get(marker) ?? 0) + 1);
    }
    if (!fromStdout) return;
    for (const waiter of lineWaiters) {
      if (line.startsWith(waiter.prefix)) {
        lineWaiters.delete(waiter);
        waiter.resolve(line.slice(waiter.prefix.length));
      }
    }
  };
  const split = (fromStdout: boolean) => {
    let pending = '';
    return (chunk: Buffer) => {
      log.write(chunk);
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        onLine(pending.slice(0, nl), fromStdout);
        pending = pending.slice(nl + 1);
      }
    };
  };
  proc.stdout.on('data', split(true));
  proc.stderr.on('data', split(false));

  const exited = new Promise<string>((resolve) => {
    // 'close', not 'exit': by then stdout/stderr are drained, so tail() holds the last words.
    proc.once('close', (code, signal) => {
      exitedFlag = true;
      live.delete(child);
      resolve(code !== null ? `exit code ${code}` : `signal ${signal ?? 'unknown'}`);
    });
  });
  exited.finally(() => log.end()).catch(() => undefined);

  let stopping: Promise<void> | undefined;
  const child: Child = {
    name: opts.name,
    pid,
    exited,
    hasExited: () => exitedFlag,
    tail: () => tail.join('\n'),
    countLines(marker) {
      if (!markerCounts.has(marker)) markerCounts.set(marker, 0);
      return markerCounts.get(marker) ?? 0;
    },
    waitForLine(prefix, timeoutMs) {
      return new Promise<string>((resolve, reject) => {
        const waiter = { prefix, resolve: (rest: string) => { clearTimeout(timer); resolve(rest); } };
        const timer = setTimeout(() => {
          lineWaiters.delete(waiter);
          reject(new Error(`[${opts.name}] no "${prefix.trim()}" line within ${timeoutMs} ms; last output:\n${child.tail()}`));
        }, timeoutMs);
        lineWaiters.add(waiter);
        void exited.then((how) => {
          if (!lineWaiters.delete(waiter)) return;
          clearTimeout(timer);
          reject(new Error(`[${opts.name}] exited (${how}) before it was ready; last output:\n${child.tail()}`));
        });
      });
    },
    stop() {
      stopping ??= (async () => {
        if (exitedFlag) return;
        const signalGroup = (signal: NodeJS.Signals) => {
          try {
            process.kill(-pid, signal);
          } catch {
            // ESRCH: the group is already gone.
          }
        };
        signalGroup('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          exited.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_GRACE_MS))),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          signalGroup('SIGKILL');
          await exited;
        }
        // Anything the child forked and left behind in its group goes too.
        signalGroup('SIGKILL');
      })();
      return stopping;
    },
  };
  live.add(child);
  return child;
}

/** Cores this harness may use, as `nproc` counts them (read before the harness pins itself). */
export function countCores(): number {
  const out = spawnSync('nproc', { encoding: 'utf8' });
  const n = Number(out.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : availableParallelism();
}

/**
 * Pins this process, all its threads included, to `cpu` (the load generator runs in it).
 * @returns an error message, or undefined on success.
 */
export function pinSelf(cpu: number): string | undefined {
  const out = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { encoding: 'utf8' });
  if (out.error) return out.error.message;
  return out.status === 0 ? undefined : (out.stderr || `taskset exited ${out.status}`).trim();
}
