import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { InvalidationTarget } from '../cache/index.ts';
import { ErrorCode } from '../errors/catalogue.ts';
import { opsError } from './errors.ts';

/** Invalidates cache entries; resolves with when and whether every instance was told. */
export type CacheAdmin = (target: InvalidationTarget) => Promise<{ at: number; shared: boolean }>;

const NAME = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/);
const body = z.union([
  z.object({ subgraph: NAME }).strict(),
  z.object({ type: NAME }).strict(),
  z.object({ type: NAME, key: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).refine((k) => Object.keys(k).length > 0 && Object.keys(k).length <= 16) }).strict(),
]);

/**
 * `POST /admin/cache/invalidate` with `{"subgraph": "pricing"}`, `{"type": "Product"}` or
 * `{"type": "Product", "key": {"id": "p1"}}`: every entry fetched before now is a miss, on every
 * instance (through Redis) and in both levels.
 */
export function registerCacheAdmin(
  app: FastifyInstance,
  admin: CacheAdmin | undefined,
  guard: { requireAdmin: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>; audit: (req: FastifyRequest, action: string, fields: Record<string, unknown>) => void; subgraphNames: () => readonly string[] },
): void {
  app.post('/admin/cache/invalidate', { preHandler: guard.requireAdmin }, async (req, reply) => {
    if (!admin) return reply.code(501).send(opsError(ErrorCode.NOT_IMPLEMENTED, 'the cache is off on this instance (PORTICO_CACHE_ENABLED=false); nothing to invalidate'));
    const parsed = body.safeParse(req.body);
    if (!parsed.success) {
      return reply.code(400).send(opsError(ErrorCode.BAD_REQUEST, 'expected a JSON body {"subgraph": name} or {"type": name} or {"type": name, "key": {field: value}}'));
    }
    const b = parsed.data;
    let target: InvalidationTarget;
    if ('subgraph' in b) {
      if (!guard.subgraphNames().includes(b.subgraph)) return reply.code(404).send(opsError(ErrorCode.NOT_FOUND, `no subgraph ${JSON.stringify(b.subgraph)}; subgraphs: ${guard.subgraphNames().join(', ')}`));
      target = { by: 'subgraph', subgraph: b.subgraph };
    } else if ('key' in b) target = { by: 'key', type: b.type, key: b.key };
    else target = { by: 'type', type: b.type };
    const result = await admin(target);
    guard.audit(req, 'invalidate_cache', { target, shared: result.shared });
    return reply.send({ invalidated: target, at: new Date(result.at).toISOString(), allInstances: result.shared });
  });
}
