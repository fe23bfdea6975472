/**
 * The executor's per-fetch parts against @apollo/gateway's own (the reference the differential
 * suite holds Portico to): merging, rewrites, hydrated error paths, and representations built
 * from a `requires` selection, on inputs with lists, nulls, abstract types and missing fields.
 */
import { applyRewrites } from '@apollo/gateway/dist/dataRewrites.js';
import { generateHydratedPaths as referenceHydratedPaths } from '@apollo/gateway/dist/executeQueryPlan.js';
import { deepMerge as referenceMerge } from '@apollo/gateway/dist/utilities/deepMerge.js';
import type { FetchDataRewrite, QueryPlanSelectionNode } from '@apollo/query-planner';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { compileRequires, compileRewrites, deepMerge, generateHydratedPaths, objectOfTypeTester } from '../../../src/execution/fetch.ts';

const schema = buildSchema(/* GraphQL */ `
  type Query { media: [Media] }
  interface Media { id: ID! }
  type Book implements Media { id: ID! pages: Int }
  type Movie implements Media { id: ID! minutes: Int }
  union Thing = Book | Movie
`);

describe('deepMerge', () => {
  const cases: [unknown, unknown][] = [
    [{ a: 1, b: { c: 2 } }, { b: { d: 3 }, e: [1, 2] }],
    [{ list: [{ x: 1 }, { x: 2 }] }, { list: [{ y: 1 }, null] }],
    [{ list: [{ x: 1 }] }, { list: [{ y: 1 }, { y: 2 }] }],
    [{ a: null }, { a: { b: 1 }, skip: undefined }],
    [{ a: { b: 1 } }, null],
  ];
  cases.forEach(([target, source], i) => {
    it(`case ${i} merges as @apollo/gateway's`, () => {
      expect(deepMerge(structuredClone(target), structuredClone(source))).toEqual(referenceMerge(structuredClone(target), structuredClone(source)));
    });
  });
});

describe('rewrites', () => {
  const rewrites: FetchDataRewrite[] = [
    { kind: 'ValueSetter', path: ['... on Book', '__typename'], setValueTo: 'Media' },
    { kind: 'KeyRenamer', path: ['... on Media', 'items', 'alias'], renameKeyTo: 'real' },
  ];
  const values = [
    { __typename: 'Book', id: '1', items: [{ alias: 1 }, { alias: null }] },
    { __typename: 'Movie', id: '2', items: { alias: 'x' } },
    { id: '3' },
    [{ __typename: 'Book' }, null, 3],
  ];
  values.forEach((value, i) => {
    it(`value ${i} is rewritten as @apollo/gateway rewrites it`, () => {
      const mine = structuredClone(value);
      const theirs = structuredClone(value);
      compileRewrites(rewrites, objectOfTypeTester(schema))!(mine);
      applyRewrites(schema, rewrites, theirs);
      expect(mine).toEqual(theirs);
    });
  });
});

describe('hydrated error paths', () => {
  const data = { products: [{ reviews: [{ author: { id: 1 } }, { author: null }] }, { reviews: [] }, null, { reviews: [{ author: { id: 2 } }] }] };
  for (const path of [['products', '@', 'reviews', '@', 'author'], ['products', '@'], ['products', 'reviews']]) {
    it(path.join('.'), () => {
      const mine: (string | number)[][] = [];
      const theirs: (string | number)[][] = [];
      generateHydratedPaths([], path, data, mine);
      referenceHydratedPaths([], path, data, theirs);
      expect(mine).toEqual(theirs);
      expect(mine.length).toBeGreaterThan(0);
    });
  }
});

describe('representations from a requires selection', () => {
  // What a plan's `requires` looks like: __typename, the key, and type-conditioned extras.
  const requires: QueryPlanSelectionNode[] = [
    {
      kind: 'InlineFragment',
      typeCondition: 'Book',
      selections: [
        { kind: 'Field', name: '__typename' },
        { kind: 'Field', name: 'id' },
        { kind: 'Field', name: 'pages' },
      ],
    },
    {
      kind: 'InlineFragment',
      typeCondition: 'Media',
      selections: [
        { kind: 'Field', name: '__typename' },
        { kind: 'Field', name: 'id' },
        { kind: 'Field', name: 'tags' },
        { kind: 'Field', name: 'dims', selections: [{ kind: 'Field', name: 'w' }] },
      ],
    },
  ];
  const build = compileRequires(requires, objectOfTypeTester(schema));
  it('keeps exactly the required fields, per type condition', () => {
    expect(build({ __typename: 'Book', id: '1', pages: 3, title: 'x' })).toEqual({ __typename: 'Book', id: '1', pages: 3 });
    expect(build({ __typename: 'Movie', id: '2', tags: ['a'], dims: [{ w: 1, h: 2 }, null], minutes: 9 })).toEqual({
      __typename: 'Movie',
      id: '2',
      tags: ['a'],
      dims: [{ w: 1 }, null],
    });
  });
  it('an entity missing a required field has no representation; a typeless one is empty', () => {
    expect(build({ __typename: 'Movie', id: '2' })).toEqual({});
    expect(build({ id: '2', pages: 1 })).toEqual({});
    expect(build(null)).toBeNull();
  });
});
