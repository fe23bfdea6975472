import type { FastifyReply, FastifyRequest } from 'fastify';
import { OperationLimitError, preParseCheck, resolveOperationLimits, type OperationLimitsOptions } from './index.ts';

/**
 * Size and token limits on the raw query text, at the HTTP edge, before Apollo parses it: a
 * megabyte of tokens is refused after lexing at most `maxTokens` of them.
 */
export function createQueryTextLimitHook(options: OperationLimitsOptions) {
  const limits = resolveOperationLimits(options);
  return async function queryTextLimit(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const source = querySource(req);
    if (source === undefined) return;
    try {
      preParseCheck(source, limits);
    } catch (err) {
      if (!(err instanceof OperationLimitError)) throw err;
      const { http: _http, ...extensions } = err.extensions as Record<string, unknown>;
      await reply
        .code(400)
        .header('content-type', 'application/json; charset=utf-8')
        .send(JSON.stringify({ errors: [{ message: err.message, extensions }] }));
    }
  };
}

function querySource(req: FastifyRequest): string | undefined {
  if (req.method === 'POST') {
    const q = (req.body as { query?: unknown } | undefined)?.query;
    return typeof q === 'string' ? q : undefined;
  }
  const q = (req.query as { query?: unknown } | undefined)?.query;
  return typeof q === 'string' ? q : undefined;
}
