// First: swaps a dependency's re-export getters for plain values before anything loads it.
import './runtime/flatExports.ts';
import { ConfigError, loadConfig } from './config/index.ts';
import { createPortico } from './server.ts';

/**
 * Process only: configuration, start, signals. A bad configuration or an unloadable
 * supergraph exits non-zero with a message that names the problem.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`portico: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const portico = createPortico(config);
  const log = portico.logger;
  let stopping = false;
  // First SIGTERM/SIGINT: graceful drain (readiness 503, keep serving, close, finish in-flight).
  // A second one, or the grace deadline inside drain(), forces the exit.
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    portico.drain().then(
      (clean) => {
        log.flush?.();
        process.exit(clean ? 0 : 1);
      },
      (err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    const { url } = await portico.start();
    log.info({ url: `${url}/graphql`, env: config.nodeEnv, supergraph: config.supergraph.path }, `Portico ready at ${url}/graphql`);
  } catch (err) {
    process.stderr.write(`portico: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

void main();
