// Preload (node --import) that records every outbound connection and DNS lookup a process
// makes, one JSON line per attempt, to the file named by NET_AUDIT_FILE. Used to prove that
// Portico talks to nothing but what it is configured to talk to.
import { appendFileSync } from 'node:fs';
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';

const file = process.env.NET_AUDIT_FILE;
const record = (kind, host, port) => {
  if (file) appendFileSync(file, JSON.stringify({ kind, host: String(host ?? ''), port: port ?? null }) + '\n');
};

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const first = args[0];
  let host;
  let port;
  if (Array.isArray(first)) ({ host, port } = first[0] ?? {});
  else if (first && typeof first === 'object') ({ host, port, path: host = host ?? first.path } = first);
  else {
    port = first;
    host = typeof args[1] === 'string' ? args[1] : 'localhost';
  }
  record('tcp', host ?? 'localhost', port);
  return connect.apply(this, args);
};

const lookup = dns.lookup;
dns.lookup = function (hostname, ...rest) {
  record('dns', hostname);
  return lookup.call(this, hostname, ...rest);
};
const plookup = dns.promises.lookup;
dns.promises.lookup = function (hostname, ...rest) {
  record('dns', hostname);
  return plookup.call(this, hostname, ...rest);
};

const send = dgram.Socket.prototype.send;
dgram.Socket.prototype.send = function (...args) {
  const host = args.find((a, i) => i > 0 && typeof a === 'string');
  record('udp', host ?? '?');
  return send.apply(this, args);
};
