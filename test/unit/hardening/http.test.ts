import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createQueryTextLimitHook } from '../../../src/hardening/http.ts';

/** A reply that records what the hook sent. */
function fakeReply() {
  const sent: { status?: number; body?: string } = {};
  const reply = {
    code(status: number) {
      sent.status = status;
      return reply;
    },
    header() {
      return reply;
    },
    async send(body: string) {
      sent.body = body;
    },
  };
  return { reply: reply as unknown as FastifyReply, sent };
}

const post = (query: string) => ({ method: 'POST', body: { query } }) as unknown as FastifyRequest;

describe('query text limits at the edge', () => {
  it('a text within the limits passes every time; one over them is refused every time, before or after', async () => {
    const hook = createQueryTextLimitHook({ maxTokens: 10 });
    const small = '{ a b c }';
    const large = `{ ${Array.from({ length: 20 }, (_, i) => `f${i}`).join(' ')} }`;
    for (let round = 0; round < 3; round++) {
      for (const [query, refused] of [
        [small, false],
        [large, true],
      ] as const) {
        const { reply, sent } = fakeReply();
        await hook(post(query), reply);
        expect(sent.status).toBe(refused ? 400 : undefined);
        if (refused) expect(JSON.parse(sent.body!).errors[0].extensions.code).toBe('TOO_MANY_TOKENS');
      }
    }
  });
});
