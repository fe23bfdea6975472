/**
 * CPU pinning of the benchmark: how many cores there are, and pinning the harness itself (the
 * load generator runs in it). Children are pinned when spawned (`cpu` in devkit's spawnProcess).
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

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
