/**
 * The cluster's private Redis: its own port (never the system Redis on 6379), loopback only, no
 * persistence, so a restart gives a blank server — which is what losing Redis looks like.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnManaged, type ManagedProcess, type Reaper } from './processes.ts';

export const REDIS_SERVER_BIN = process.env.PORTICO_TEST_REDIS_SERVER ?? (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server');

/** Starts redis-server on 127.0.0.1:`port`; resolves once it accepts connections. */
export async function startRedisServer(port: number, logFile: string, reaper: Reaper | undefined, timeoutMs: number): Promise<ManagedProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-cluster-redis-'));
  // prettier-ignore
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    // Shared state here is rebuildable (buckets, APQ, stale values): nothing to persist.
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--daemonize', 'no',
    '--logfile', '',
  ];
  const proc = spawnManaged('redis', REDIS_SERVER_BIN, args, { env: process.env, logFile, reaper });
  void proc.exited.then(() => rmSync(dir, { recursive: true, force: true }));
  await proc.waitForOutput(/Ready to accept connections/, timeoutMs);
  return proc;
}
