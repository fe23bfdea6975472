/**
 * The floor of any gateway on this machine: a proxy that does nothing but move the same bytes.
 * Each client request's body goes unchanged, over a keep-alive connection pool (undici, as
 * Portico's data sources use), to an upstream, and the answer's bytes go back unchanged. The
 * harness measures this process only: its CPU per request is what receiving a GraphQL request,
 * one upstream exchange of the same size and sending the answer cost in Node's HTTP stack, with
 * no GraphQL work at all.
 *
 * The upstream (this file again, `BENCH_NOOP_ROLE=replay`, pinned to core 0 beside the subgraphs
 * so its CPU is not the proxy's) answers each distinct body from memory, asking a bare
 * @apollo/gateway child once per body: the proxy is not held back by a slow upstream, and its
 * answers pass the golden check.
 *
 * Env:
 *   PORT                    listen port (127.0.0.1)
 *   BENCH_SUPERGRAPH_PATH   supergraph SDL file, for the upstream's @apollo/gateway
 *   BENCH_UPSTREAM_PORT     the upstream's port (a free one, from the harness)
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { Pool } from 'undici';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => done(Buffer.concat(chunks)));
    req.on('error', fail);
  });
}

async function post(pool: Pool, body: Buffer): Promise<{ status: number; answer: Buffer }> {
  const { statusCode, body: answer } = await pool.request({ method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body });
  return { status: statusCode, answer: Buffer.from(await answer.arrayBuffer()) };
}

function send(res: ServerResponse, status: number, answer: Buffer): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': answer.length });
  res.end(answer);
}

function fail(res: ServerResponse, err: unknown): void {
  // Before the upstream is up (readiness polling) or when it fails: an honest 502.
  send(res, 502, Buffer.from(JSON.stringify({ errors: [{ message: `upstream: ${err instanceof Error ? err.message : String(err)}` }] })));
}

/** Starts a child (stopped with this process) and resolves with the first match of `ready` in its output. */
function child(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<string> {
  const proc = spawn('taskset', ['-c', '0', process.execPath, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  process.on('exit', () => proc.kill('SIGTERM'));
  return new Promise((done) => {
    let out = '';
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) done(m[1]!);
    });
  });
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));

const port = Number(requireEnv('PORT'));
if (process.env['BENCH_NOOP_ROLE'] === 'replay') {
  // The upstream: answers from memory, each distinct body asked of @apollo/gateway once.
  const apolloUrl = await child(['--import', 'tsx', resolve(import.meta.dirname, 'apollo.ts')], { ...process.env, PORT: '0' }, /ready at (http:\/\/\S+)/);
  const apollo = new Pool(apolloUrl.replace(/\/$/, ''), { connections: 64 });
  const answers = new Map<string, Promise<{ status: number; answer: Buffer }>>();
  createServer((req, res) => {
    readBody(req)
      .then((body) => {
        const key = body.toString();
        let answer = answers.get(key);
        if (!answer) {
          answer = post(apollo, body);
          answers.set(key, answer);
          answer.catch(() => answers.delete(key));
        }
        return answer;
      })
      .then(({ status, answer }) => send(res, status, answer))
      .catch((err: unknown) => fail(res, err));
  }).listen(port, '127.0.0.1', () => process.stdout.write(`replay upstream on ${port}\n`));
} else {
  const upstreamPort = requireEnv('BENCH_UPSTREAM_PORT');
  void child(['--import', 'tsx', import.meta.filename], { ...process.env, PORT: upstreamPort, BENCH_NOOP_ROLE: 'replay' }, /(replay upstream)/);
  const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 64 });
  const server = createServer((req, res) => {
    readBody(req)
      .then((body) => post(pool, body))
      .then(({ status, answer }) => send(res, status, answer))
      .catch((err: unknown) => fail(res, err));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => process.stdout.write(`noop proxy on ${port} → replay upstream on ${upstreamPort}\n`));
}
