/**
 * HAProxy for tests: validate `deploy/haproxy/haproxy.cfg` with `haproxy -c`, and wait for the
 * load balancer to see a server in a given state (its stats CSV; there is no event to subscribe
 * to across the process boundary, so this polls, bounded).
 */
import { spawnSync } from 'node:child_process';
import { HAPROXY_BIN, HAPROXY_CONFIG, serverStates, type ServerState } from '../../scripts/cluster/haproxy.ts';
import { until } from './wait.ts';

export { HAPROXY_BIN, HAPROXY_CONFIG, haproxyEnv, serverStates, type ServerState } from '../../scripts/cluster/haproxy.ts';

export interface ConfigCheck {
  readonly ok: boolean;
  /** stdout + stderr of `haproxy -c`. */
  readonly output: string;
}

/**
 * `haproxy -c -f <config>` with `env` for the config's variables. `zeroWarning` adds `-dW`, which
 * fails the check on any warning as well.
 */
export function checkHaproxyConfig(env: Record<string, string> = {}, options: { zeroWarning?: boolean; config?: string } = {}): ConfigCheck {
  const args = [...(options.zeroWarning ? ['-dW'] : []), '-c', '-f', options.config ?? HAPROXY_CONFIG];
  const r = spawnSync(HAPROXY_BIN, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** Resolves with the server's state once `accept(status)` holds for it; bounded by `timeoutMs`. */
export function waitForServer(statsUrl: string, server: string, accept: (status: string) => boolean, timeoutMs = 15_000): Promise<ServerState> {
  return until(
    `haproxy to see ${server} in the expected state`,
    async () => {
      const s = (await serverStates(statsUrl))[server];
      return s && accept(s.status) ? s : undefined;
    },
    timeoutMs,
    50,
  );
}

/** Exactly `UP` (not `UP 1/2`, which is an UP server that failed a check and is going down). */
export const isUp = (status: string) => status === 'UP';
/** `DOWN` or `MAINT`: taking no traffic. */
export const isDown = (status: string) => status === 'DOWN' || status.startsWith('MAINT');
