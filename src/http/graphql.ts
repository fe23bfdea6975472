import { HeaderMap, type ApolloServer, type HTTPGraphQLRequest } from '@apollo/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PorticoContext } from '../request/context.ts';

const hasOwnProperty = Object.prototype.hasOwnProperty;

/**
 * The bridge from Fastify to Apollo Server: ~30 lines instead of a dependency, so the edge
 * (limits, auth, rate limit) stays in Fastify hooks and Apollo only executes GraphQL.
 */
export function graphqlHandler(
  /** The server, or a choice per request (the canary's lanes). */
  apolloFor: ApolloServer<PorticoContext> | ((req: FastifyRequest) => ApolloServer<PorticoContext>),
  contextFor: (req: FastifyRequest, reply: FastifyReply) => Promise<PorticoContext>,
) {
  return async function handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const headers = new HeaderMap();
    // `for…in` over own keys: `Object.entries` built an array of pairs per request.
    const raw = req.headers;
    for (const name in raw) {
      if (!hasOwnProperty.call(raw, name)) continue;
      const value = raw[name];
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const q = req.url.indexOf('?');
    const httpGraphQLRequest: HTTPGraphQLRequest = {
      method: req.method.toUpperCase(),
      headers,
      search: q >= 0 ? req.url.slice(q + 1) : '',
      body: req.body,
    };
    const apollo = typeof apolloFor === 'function' ? apolloFor(req) : apolloFor;
    const res = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: () => contextFor(req, reply) });
    for (const [name, value] of res.headers) reply.header(name, value);
    reply.code(res.status ?? 200);
    if (res.body.kind === 'complete') {
      // Encoded to UTF-8 once, here. Sent as a string, Fastify measures its UTF-8 length for
      // content-length and Node encodes it again to write it; on Node 20 both passes cost ~9 ns
      // a character for an answer holding any character beyond Latin-1 (0.7 ms each for the
      // public benchmark's 87 KB answer). Without a content-type from Apollo the string goes as
      // before, so Fastify's default for it (text/plain) is unchanged.
      await reply.send(res.headers.has('content-type') ? Buffer.from(res.body.string, 'utf8') : res.body.string);
      return;
    }
    // Incremental delivery (@defer): stream the chunks as they come.
    const chunks: string[] = [];
    for await (const chunk of res.body.asyncIterator) chunks.push(chunk);
    await reply.send(chunks.join(''));
  };
}
