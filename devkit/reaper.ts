/**
 * A detached helper process that holds a pipe from this one. When the pipe closes — because
 * this process exited, cleanly or not (SIGKILL, crash) — it kills every process group still
 * registered: no gateway, mock, Redis or HAProxy outlives the cluster that started it. The
 * exit guard in processes.ts cannot do that: a SIGKILLed process runs no handler.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { PROJECT_ROOT } from './paths.ts';

export interface Reaper {
  watch(pgid: number): void;
  forget(pgid: number): void;
  /** Closes the pipe; the reaper kills what is still registered (nothing, after a clean stop). */
  close(): void;
}

export function startReaper(): Reaper {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(PROJECT_ROOT, 'devkit/reaperChild.ts')], {
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
