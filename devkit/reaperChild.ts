/**
 * The reaper process (see `startReaper` in reaper.ts). Reads `+<pgid>` / `-<pgid>` lines on
 * stdin; when stdin ends (the cluster process exited, however it exited), SIGTERMs every process
 * group still registered, SIGKILLs what is left after {@link KILL_AFTER_MS}, and exits.
 */

/** SIGTERM → SIGKILL, ms. Short: the cluster is gone, nobody waits for a graceful drain. */
const KILL_AFTER_MS = 1_000;

const groups = new Set<number>();
let buffered = '';

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buffered += chunk;
  const lines = buffered.split('\n');
  buffered = lines.pop() ?? '';
  for (const line of lines) {
    const pgid = Number(line.slice(1));
    if (!Number.isInteger(pgid) || pgid <= 1) continue;
    if (line.startsWith('+')) groups.add(pgid);
    else if (line.startsWith('-')) groups.delete(pgid);
  }
});
process.stdin.on('close', reap);
process.stdin.on('end', reap);
// Ignore the signals meant for the cluster; only the pipe decides when to reap.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);

let reaping = false;
function reap(): void {
  if (reaping) return;
  reaping = true;
  if (groups.size === 0) process.exit(0);
  process.stderr.write(`cluster reaper: the cluster process is gone; stopping process groups ${[...groups].join(', ')}\n`);
  signalAll('SIGTERM');
  setTimeout(() => {
    signalAll('SIGKILL');
    process.exit(0);
  }, KILL_AFTER_MS);
}

function signalAll(signal: NodeJS.Signals): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, signal);
    } catch {
      groups.delete(pgid); // already gone
    }
  }
}
