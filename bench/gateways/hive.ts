/**
 * Hive Gateway (@graphql-hive/gateway 2) with its defaults, run through its own CLI entry
 * (`hive-gateway supergraph <file>`) in this process, exactly as `npx hive-gateway` would:
 * same command parser, same config resolution, same node:http server.
 *
 * Env:
 *   PORT                    listen port (bound to 127.0.0.1 only)
 *   BENCH_SUPERGRAPH_PATH   supergraph SDL file (watched by Hive for changes; we never change it)
 *   BENCH_HIVE_ROUTER_RUNTIME=1  adds `--hive-router-runtime`: The Guild's Rust query planner
 *                           and the executor built for it (@graphql-hive/router-runtime,
 *                           1.4.23). The CLI falls back to its default runtime with only a
 *                           warning when the package cannot load, so the harness checks that
 *                           the planner's native addon is mapped in this process
 *                           (`verify` in ./index.ts) before it times the gateway.
 *
 * Defaults worth knowing (2.15.1, read from its source): one process (`--fork` defaults to 1);
 * outbound in-flight dedup of identical subgraph requests ON (executor-http
 * `deduplicateInflightRequests`); inbound request dedup OFF (`inboundInflightRequestDeduplication`
 * defaults to false); no usage reporting or tracing unless a Hive/Apollo token or an
 * OpenTelemetry endpoint is given, and the harness strips all such variables from this
 * process's environment.
 */
import { enableModuleCachingIfPossible, handleNodeWarnings, run } from '@graphql-hive/gateway';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

const port = requireEnv('PORT');
const supergraphPath = requireEnv('BENCH_SUPERGRAPH_PATH');

// What bin.js does before run(): compile cache (a no-op on Node 20) and quiet Node warnings.
enableModuleCachingIfPossible();
handleNodeWarnings();

// The CLI reads its arguments from process.argv; `--host` keeps it off 0.0.0.0.
// (The flag, not HIVE_ROUTER_RUNTIME: the harness strips HIVE_* variables from the environment.)
const routerRuntime = process.env['BENCH_HIVE_ROUTER_RUNTIME'] === '1' ? ['--hive-router-runtime'] : [];
process.argv = [process.argv[0] ?? 'node', 'hive-gateway', 'supergraph', supergraphPath, '--host', '127.0.0.1', '--port', port, ...routerRuntime];
run({}).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
