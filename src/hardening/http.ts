import type { FastifyReply, FastifyRequest } from 'fastify';
import { refusalBody } from '../errors/refusal.ts';
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
      await reply
        .code(err.httpStatus)
        .header('content-type', 'application/json; charset=utf-8')
        .send(JSON.stringify(refusalBody(err.code, err.message, { measured: err.measured, limit: err.limit })));
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
