import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ControlPlane } from '../controlPlane/index.ts';
import { ErrorCode } from '../errors/catalogue.ts';
import { opsError } from './errors.ts';
import { extend } from '../runtime/objects.ts';

export type SupergraphAdmin = Pick<ControlPlane, 'status' | 'promote' | 'abort'>;

/**
 * `POST /admin/supergraph/promote`: the running canary serves everyone now.
 * `POST /admin/supergraph/abort`: the running canary is rolled back; with none running, the last
 * promoted version is rolled back to the one it replaced. Both are shared through Redis: every
 * instance follows. 409 when there is nothing to act on.
 */
export function registerSupergraphAdmin(
  app: FastifyInstance,
  admin: SupergraphAdmin | undefined,
  requireAdmin: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
  audit: (req: FastifyRequest, action: string, fields: Record<string, unknown>) => void,
): void {
  for (const action of ['promote', 'abort'] as const) {
    app.post(`/admin/supergraph/${action}`, { preHandler: requireAdmin }, async (req, reply) => {
      if (!admin) return reply.code(501).send(opsError(ErrorCode.NOT_IMPLEMENTED, 'no control plane is wired into this instance'));
      const result = await admin[action]();
      audit(req, `${action}_supergraph`, { ok: result.ok, message: result.message });
      const status = admin.status();
      const body = extend(result, { serving: status.serving, canary: status.canary && { hash: status.canary.hash, percent: status.canary.percent } });
      if (!result.ok) return reply.code(409).send(extend(opsError(ErrorCode.NO_CANARY, result.message), body));
      return reply.send(body);
    });
  }
}
