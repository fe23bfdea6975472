import { HeaderMap, type ApolloServer, type HTTPGraphQLRequest } from '@apollo/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PorticoContext } from '../request/context.ts';

const hasOwnProperty = Object.prototype.hasOwnProperty;

/**
 * Answers from this many characters up are encoded by a TextEncoder; shorter ones by
 * `Buffer.from`, whose pooled allocation is cheapest for small strings. Why: inside the
 * running gateway (public benchmark, 87 KB answer, mean of 1,500 calls each) `Buffer.from`
 * took 81 µs for a one-byte string and 700 µs once the answer held one character beyond
 * Latin-1 (V8 then holds it two bytes a character); the TextEncoder took 53 and 93 µs. In a
 * microbenchmark the two are close: the gap is the running process's, so it is what counts.
 */
const ENCODER_MIN_CHARS = 4_096;
const utf8 = new TextEncoder();

/** The answer's UTF-8 bytes, as a Buffer over them (no copy). */
function encodeBody(text: string): Buffer {
  if (text.length < ENCODER_MIN_CHARS) return Buffer.from(text, 'utf8');
  const bytes = utf8.encode(text);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

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
      // content-length and Node encodes it again to write it; on Node 20 both passes are slow
      // for an answer held two bytes a character (see encodeBody). Without a content-type from
      // Apollo the string goes as before, so Fastify's default for it (text/plain) is unchanged.
      await reply.send(res.headers.has('content-type') ? encodeBody(res.body.string) : res.body.string);
      return;
    }
    // Incremental delivery (@defer): stream the chunks as they come.
    const chunks: string[] = [];
    for await (const chunk of res.body.asyncIterator) chunks.push(chunk);
    await reply.send(chunks.join(''));
  };
}
