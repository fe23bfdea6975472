import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/portico.ts';

async function lookups(s: Stack): Promise<{ hit: number; miss: number }> {
  const metric = await s.gw.portico.parts.metrics.registry.getSingleMetric('portico_query_plan_cache_lookups_total')!.get();
  const of = (result: string) => metric.values.find((v) => v.labels['result'] === result)?.value ?? 0;
  return { hit: of('hit'), miss: of('miss') };
}

describe('query-plan cache in the gateway', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(() => s?.stop());

  it('plans an operation once: new variables reuse the plan, another operation or operation name is planned', async () => {
    const doc = `query A($first: Int) { products(first: $first) { id price { amount } } }
                 query B { products(first: 1) { id name } }`;
    const ask = async (variables: Record<string, unknown>, operationName: string) => {
      const res = await fetch(s.gw.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: doc, variables, operationName }),
      });
      const body = (await res.json()) as { errors?: unknown };
      expect(body.errors).toBeUndefined();
    };
    const before = await lookups(s);
    await ask({ first: 2 }, 'A');
    await ask({ first: 3 }, 'A');
    await ask({ first: 4 }, 'A');
    await ask({}, 'B');
    const after = await lookups(s);
    expect(after.miss - before.miss).toBe(2); // A once, B once
    expect(after.hit - before.hit).toBe(2); // A's second and third requests
  });
});
