/**
 * `npm run cluster`: the high-availability topology on one machine, without Docker — a private
 * Redis, the four mock subgraphs and the dev IdP, three gateway instances and HAProxy in front
 * (deploy/haproxy/haproxy.cfg). Prints where everything is; Ctrl-C or SIGTERM stops it all.
 *
 * Kill an instance (`kill <pid>` from the table) and watch the others carry the traffic: nothing
 * is restarted automatically. Ports can be moved with PORTICO_CLUSTER_LB_PORT,
 * PORTICO_CLUSTER_LB_STATS_PORT, PORTICO_CLUSTER_GATEWAY_PORTS (three, comma-separated),
 * PORTICO_CLUSTER_OPS_PORTS, PORTICO_CLUSTER_REDIS_PORT, PORTICO_MOCK_<NAME>_PORT and
 * PORTICO_MOCK_IDP_PORT; logs go to PORTICO_CLUSTER_LOG_DIR (default .cluster/logs, replaced per run).
 * Every other PORTICO_* variable reaches the gateways as usual.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../devkit/paths.ts';
import { CLUSTER_RATE_LIMITS, clusterOptionsFromEnv, startCluster, type Cluster } from './index.ts';

process.env.APOLLO_TELEMETRY_DISABLED = 'true';

const PRODUCT_PAGE = '{ products(first: 3) { id name price { amount currency } inventory { inStock quantity } reviews(first: 2) { rating body } averageRating } }';

const began = Date.now();
let cluster: Cluster | undefined;
let stopping = false;

// One stop, whatever arrives: Ctrl-C delivers SIGINT to npm, tsx and this process at once.
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping the cluster\n`);
  // Bounded: if a child refuses to die, the reaper still kills it once this process is gone.
  setTimeout(() => process.exit(1), 10_000).unref();
  void (cluster?.stop() ?? Promise.resolve()).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`cluster: error while stopping: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGHUP', () => stop('SIGHUP'));

try {
  const fromEnv = clusterOptionsFromEnv(process.env);
  // Default: the last run's logs in .cluster/logs (git-ignored), replaced on each start.
  const logDir = fromEnv.logDir ?? join(PROJECT_ROOT, '.cluster', 'logs');
  if (fromEnv.logDir === undefined) rmSync(logDir, { recursive: true, force: true });
  const options = { ...fromEnv, logDir, onEvent: (line: string) => process.stdout.write(`cluster: ${line}\n`) };
  process.stdout.write('cluster: starting Redis, mocks, three gateways and HAProxy…\n');
  cluster = await startCluster(options);
  if (stopping) await cluster.stop();
  else {
    const body = JSON.stringify({ query: PRODUCT_PAGE });
    process.stdout.write(
      [
        '',
        `Portico cluster ready in ${((Date.now() - began) / 1000).toFixed(1)} s.`,
        cluster.describe(),
        '',
        `  Rate limits: PORTICO_RATE_LIMITS=${process.env.PORTICO_RATE_LIMITS ?? `${CLUSTER_RATE_LIMITS}  (demo/load-test setting: every request through HAProxy`}`,
        ...(process.env.PORTICO_RATE_LIMITS ? [] : ['               comes from one loopback address, i.e. one anonymous subject)']),
        '',
        'Try the product page through HAProxy:',
        `  curl -s ${cluster.lbUrl}/graphql -H 'content-type: application/json' -d '${body}'`,
        'Kill an instance (kill <pid> above): HAProxy takes it out, the others carry on; nothing restarts it.',
        'Ctrl-C stops everything.',
        '',
      ].join('\n') + '\n',
    );
  }
} catch (err) {
  process.stderr.write(`cluster: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
