import { spawnTsx, type ManagedProcess } from '../../devkit/processes.ts';

/** Bound on a gateway's start (tsx compiles it first), ms: below the tests' own 60 s bound. */
const START_TIMEOUT_MS = 45_000;

export interface GatewayProcess {
  process: ManagedProcess;
  /** `http://127.0.0.1:<port>` */
  url: string;
  graphqlUrl: string;
  /** Everything the process printed so far (JSON log lines). */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts `src/main.ts` as a real process (port 0) and resolves once it logged its URL.
 * Extra `args` go before the entry point (e.g. `--import` preloads).
 */
export async function spawnGateway(env: Record<string, string>, args: string[] = []): Promise<GatewayProcess> {
  const proc = spawnTsx({
    name: 'gateway',
    args: [...args, 'src/main.ts'],
    env: { ...process.env, APOLLO_TELEMETRY_DISABLED: 'true', PORT: '0', PORTICO_HOST: '127.0.0.1', PORTICO_OPS_PORT: '0', ...env },
  });
  const [, url] = await proc.waitForOutput(/"url":"(http:\/\/127\.0\.0\.1:\d+)\/graphql"/, START_TIMEOUT_MS);
  return {
    process: proc,
    url: url!,
    graphqlUrl: `${url}/graphql`,
    output: () => proc.output(),
    exited: proc.exited.then((s) => s.code),
    kill: (s = 'SIGTERM') => proc.signal(s),
  };
}
