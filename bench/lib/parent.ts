/**
 * Orphan guard for benchmark children. Each child runs in its own process group (so the harness
 * can stop it and everything it forked with one signal); the price is that a harness killed with
 * SIGKILL cannot signal anyone. Children therefore watch the harness's PID themselves.
 */

/** How often a child checks that the harness is alive, in ms; an orphan lingers at most this long. */
const PARENT_POLL_MS = 2_000;

/**
 * Calls `onGone` once when the process named by BENCH_PARENT_PID no longer exists.
 * No-op when the variable is unset (a child started by hand). The timer is unref'd: it never
 * keeps a process alive and costs one `kill(pid, 0)` syscall per poll.
 */
export function watchParent(onGone: () => void, env: NodeJS.ProcessEnv = process.env): void {
  const pid = Number(env['BENCH_PARENT_PID']);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const timer = setInterval(() => {
    try {
      process.kill(pid, 0);
    } catch {
      clearInterval(timer);
      onGone();
    }
  }, PARENT_POLL_MS);
  timer.unref();
}
