import { createServer, type Server } from 'node:net';

/**
 * `count` distinct free loopback ports, for topologies whose processes need their ports before
 * they start (HAProxy's config, gateways told where the others are). All are held at once while
 * probing, so they differ from each other.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => s.once('error', reject).listen(0, '127.0.0.1', resolve));
      servers.push(s);
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}
