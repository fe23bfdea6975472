/**
 * Free loopback ports for servers that must be told their port before they start (redis-server,
 * HAProxy's config, gateways that learn where the others are). Servers that can bind port 0
 * themselves should do that instead: a probed port can be taken again before it is used.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/**
 * `count` distinct free loopback ports. All are held at once while probing, so they differ from
 * each other.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => s.once('error', reject).listen(0, '127.0.0.1', resolve));
      servers.push(s);
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}
