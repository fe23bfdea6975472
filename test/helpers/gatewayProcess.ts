import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface GatewayProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  url: string;
  graphqlUrl: string;
  /** Everything the process printed so far (JSON log lines). */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

/** Live children, killed if the test process exits first. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * Starts `src/main.ts` as a real process (port 0) and resolves once it logged its URL.
 * Extra `args` go before the entry point (e.g. `--import` preloads).
 */
export async function spawnGateway(env: Record<string, string>, args: string[] = []): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args, 'src/main.ts'], {
    env: { ...process.env, APOLLO_TELEMETRY_DISABLED: 'true', PORT: '0', PORTICO_HOST: '127.0.0.1', PORTICO_OPS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit').then(([code]) => {
    live.delete(child);
    return code as number | null;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)\/graphql"/.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`gateway exited (${code}) before it was ready:\n${out.slice(-2000)}`)));
  });
  return { child, url, graphqlUrl: `${url}/graphql`, output: () => out, exited, kill: (s = 'SIGTERM') => void child.kill(s) };
}
