/**
 * Preloaded into every gateway under test (`node --import tsx --import ./bench/gateways/preload.ts …`).
 * It adds three things and nothing else; none of them runs on the request path:
 *
 * 1. Memory probe: `GET http://127.0.0.1:$BENCH_MEMORY_PORT/` answers `process.memoryUsage()` as
 *    JSON; `/?gc=1` first runs a full GC, so heap growth is read without garbage noise. The
 *    harness only asks between load phases, never during one.
 * 2. Loopback guard: any outgoing TCP connection to a host outside 127.0.0.0/8, ::1 or localhost
 *    is refused (the socket errors with EBENCHEGRESS) and reported on stderr as
 *    `[bench-guard] blocked egress …`; the harness counts those lines. It catches phone-home
 *    telemetry that an env switch forgot. Cost: one check per new connection (keep-alive pools
 *    make that rare), none per request.
 * 3. Orphan guard: exit when the harness is gone (see ../lib/parent.ts).
 */
import { createServer } from 'node:http';
import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { watchParent } from '../lib/parent.ts';
import { EGRESS_MARKER } from '../lib/protocol.ts';

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || h.startsWith('127.') || h.startsWith('::ffff:127.');
}

/** The host a `Socket#connect(...)` call targets, or undefined for IPC (a path) which is local. */
function targetHost(args: unknown[]): string | undefined {
  const [first, second] = args;
  if (typeof first === 'object' && first !== null) {
    const opts = first as { host?: unknown; path?: unknown };
    if (typeof opts.path === 'string') return undefined;
    return typeof opts.host === 'string' ? opts.host : 'localhost';
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    return typeof second === 'string' ? second : 'localhost';
  }
  return undefined;
}

function installLoopbackGuard(): void {
  const original = net.Socket.prototype.connect;
  // `connect` has several overloads; the guard only reads the target, then defers to the original.
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const host = targetHost(args);
    if (host !== undefined && !isLoopback(host)) {
      const port = typeof args[0] === 'object' && args[0] !== null ? (args[0] as { port?: unknown }).port : args[0];
      process.stderr.write(`${EGRESS_MARKER} to ${host}:${String(port)}\n`);
      const err = Object.assign(new Error(`benchmark guard: egress to ${host} refused (loopback only)`), { code: 'EBENCHEGRESS' });
      process.nextTick(() => this.destroy(err));
      return this;
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
}

let collectGarbage: (() => void) | undefined;
function fullGc(): void {
  if (collectGarbage === undefined) {
    // Exposes `gc` to new contexts only; the gateway's own context is unchanged.
    setFlagsFromString('--expose-gc');
    collectGarbage = runInNewContext('gc') as () => void;
  }
  collectGarbage();
}

function startMemoryProbe(port: number): void {
  const server = createServer((req, res) => {
    if ((req.url ?? '').includes('gc=1')) fullGc();
    const body = JSON.stringify(process.memoryUsage());
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(port, '127.0.0.1');
  // Never the reason a gateway stays up, and never the reason it fails: a probe that cannot bind
  // only costs the memory columns.
  server.unref();
  server.on('error', (err) => process.stderr.write(`[bench-probe] memory probe disabled: ${err.message}\n`));
}

installLoopbackGuard();
const probePort = Number(process.env['BENCH_MEMORY_PORT']);
if (Number.isInteger(probePort) && probePort > 0) startMemoryProbe(probePort);
watchParent(() => {
  process.kill(process.pid, 'SIGTERM');
  // A gateway that traps SIGTERM and drains gets 5 s, then goes anyway.
  setTimeout(() => process.exit(1), 5_000).unref();
});
