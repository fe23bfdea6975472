/**
 * The floor of any gateway on this machine: a proxy that does nothing but move the same bytes.
 * Each client request's body goes unchanged, over one keep-alive connection pool (undici, as
 * Portico's data sources use), to an upstream that answers it (bare @apollo/gateway, started
 * here as a child process pinned to core 0 beside the subgraphs, so its CPU is not this
 * process's), and the answer's bytes go back unchanged. The harness measures this process only:
 * its CPU per request is what receiving a GraphQL request, one upstream exchange of the same
 * size, and the answer cost in Node's HTTP stack, with no GraphQL work at all.
 *
 * Env:
 *   PORT                    listen port (127.0.0.1)
 *   BENCH_SUPERGRAPH_PATH   supergraph SDL file, for the upstream
 *   BENCH_UPSTREAM_PORT     the upstream's port (a free one, from the harness)
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { Pool } from 'undici';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

const port = Number(requireEnv('PORT'));
const upstreamPort = requireEnv('BENCH_UPSTREAM_PORT');
const apolloEntry = resolve(import.meta.dirname, 'apollo.ts');
// Core 0, with the subgraphs and the load generator: the upstream's work is not the proxy's.
const upstream = spawn('taskset', ['-c', '0', process.execPath, '--import', 'tsx', apolloEntry], {
  env: { ...process.env, PORT: upstreamPort },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const stopUpstream = () => upstream.kill('SIGTERM');
process.on('exit', stopUpstream);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    stopUpstream();
    process.exit(0);
  });
}

const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 64, pipelining: 1 });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    pool
      .request({ method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) })
      .then(async ({ statusCode, body }) => {
        const answer = Buffer.from(await body.arrayBuffer());
        res.writeHead(statusCode, { 'content-type': 'application/json', 'content-length': answer.length });
        res.end(answer);
      })
      .catch((err: unknown) => {
        // Before the upstream is up (readiness polling) or when it fails: an honest 502.
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: `upstream: ${err instanceof Error ? err.message : String(err)}` }] }));
      });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`noop proxy on ${port} → apollo-gateway on ${upstreamPort}\n`));
