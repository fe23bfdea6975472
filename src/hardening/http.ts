import type { FastifyReply, FastifyRequest } from 'fastify';
import { refusalBody } from '../errors/refusal.ts';
import { OperationLimitError, preParseCheck, resolveOperationLimits, type OperationLimitsOptions } from './index.ts';

/**
 * Characters of query text remembered as within the limits; past this the memory starts again.
 * 4 Mi: every operation of a few large apps, while a flood of distinct texts stays bounded.
 */
export const MAX_ACCEPTED_TEXT_CHARS = 4 * 1024 * 1024;

/**
 * Size and token limits on the raw query text, at the HTTP edge, before Apollo parses it: a
 * megabyte of tokens is refused after lexing at most `maxTokens` of them. A text found within
 * the limits is remembered (the verdict depends on the text alone): lexing the same operation on
 * every request allocated a token object per token, ~2 % of the bytes a product page allocates.
 */
export function createQueryTextLimitHook(options: OperationLimitsOptions) {
  const limits = resolveOperationLimits(options);
  const accepted = new Set<string>();
  let acceptedChars = 0;
  return async function queryTextLimit(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const source = querySource(req);
    if (source === undefined || accepted.has(source)) return;
    try {
      preParseCheck(source, limits);
      if (acceptedChars + source.length > MAX_ACCEPTED_TEXT_CHARS) {
        accepted.clear();
        acceptedChars = 0;
      }
      accepted.add(source);
      acceptedChars += source.length;
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
