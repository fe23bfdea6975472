/**
 * nginx (Debian's package) as a static file server for tests: the supergraph registry or an
 * object-storage mirror. Serves `root` on a free loopback port with ETags (nginx's default for
 * static files) and answers `If-None-Match` with 304; every request goes to `access.log` in its
 * own temp folder with its status, so a test can count 200s and 304s.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { spawnProcess, type ManagedProcess } from './processes.ts';
import type { Reaper } from './reaper.ts';
import { until } from './wait.ts';

export const NGINX_BIN = process.env.PORTICO_NGINX_BIN ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx');

export interface RunningNginx {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly process: ManagedProcess;
  /** `[status, path]` of every request served so far, from the access log. */
  requests(): { status: number; path: string }[];
  /** Stops it (the port stays closed: a registry that is down). */
  stop(): Promise<void>;
  /** Starts it again on the same port and root. */
  restart(): Promise<void>;
  /** Stops it and removes its temp folder. */
  close(): Promise<void>;
}

export async function startNginx(root: string, options: { reaper?: Reaper } = {}): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  log_format plain '$status $request_uri';
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  types { text/plain graphql sig; }
  server {
    listen 127.0.0.1:${port};
    access_log ${dir}/access.log plain;
    root ${root};
    etag on;
  }
}
`,
  );
  let proc: ManagedProcess;
  async function launch() {
    proc = spawnProcess({ name: 'nginx', command: NGINX_BIN, args: ['-p', dir, '-c', conf, '-e', `${dir}/error.log`], ...(options.reaper ? { reaper: options.reaper } : {}) });
    await until(
      'nginx to listen',
      async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined)) !== undefined,
      { timeoutMs: 10_000, intervalMs: 20, abortIf: () => (proc.running() ? undefined : `nginx exited: ${proc.output()}`) },
    );
  }
  await launch();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get process() {
      return proc;
    },
    requests() {
      const path = join(dir, 'access.log');
      if (!existsSync(path)) return [];
      return readFileSync(path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [status, p] = l.split(' ');
          return { status: Number(status), path: p ?? '' };
        });
    },
    async stop() {
      await proc.stop();
    },
    async close() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      if (proc.running()) await proc.stop();
      await launch();
    },
  };
}

