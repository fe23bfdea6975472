import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flattenedDrift, isFlattened } from '../../src/runtime/flatExports.ts';
import { PRODUCT_PAGE, startStack, type Stack } from '../helpers/portico.ts';

const require = createRequire(import.meta.url);

describe('flattened re-exports of @apollo/federation-internals', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(() => s?.stop());

  it('the gateway loads the snapshot, and after a schema load and a served page it still equals every live binding', async () => {
    expect(isFlattened('@apollo/federation-internals')).toBe(true);
    const fi = require('@apollo/federation-internals') as object;
    // A snapshot has plain values where the package had getters.
    expect(Object.getOwnPropertyDescriptor(fi, 'isCompositeType')?.get).toBeUndefined();
    expect(typeof Object.getOwnPropertyDescriptor(fi, 'isCompositeType')?.value).toBe('function');

    const r = await s.gql(PRODUCT_PAGE, { first: 5 });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.products).toHaveLength(5);
    expect(flattenedDrift()).toEqual([]);
  });
});
