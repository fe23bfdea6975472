/**
 * The compiled shaper against @apollo/gateway's own `computeResponse`, on the same operation
 * model and the same merged inputs: data and value-completion errors (message and path) must be
 * identical, including null propagation, invalid `__typename`s and leaf values, abstract types,
 * aliases and `@skip`/`@include` on variables with defaults.
 */
import { buildSchema, operationFromDocument } from '@apollo/federation-internals';
// Not exported from the package root; the executor Portico replaces is the reference here.
import { computeResponse } from '@apollo/gateway/dist/resultShaping.js';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { compileShape } from '../../../src/execution/shape.ts';

const schema = buildSchema(/* GraphQL */ `
  type Query {
    media(id: ID!): Media
    shelf: [Media!]!
    search: [Result]
    scores: [Int!]
    count: Int!
  }
  interface Media { id: ID! title: String! }
  type Book implements Media { id: ID! title: String! pages: Int author: Person! }
  type Movie implements Media { id: ID! title: String! minutes: Int! cast: [Person] }
  type Person { id: ID! name: String kind: Kind }
  enum Kind { HUMAN ROBOT }
  union Result = Book | Person
`);

const OPERATION = /* GraphQL */ `
  query Q($withPages: Boolean = true, $noCast: Boolean!) {
    m: media(id: "1") { __typename id t: title ... on Book { pages @include(if: $withPages) author { name kind } } ...M }
    shelf { id title __typename kind: __typename }
    search { __typename ... on Person { name } ... on Media { id } }
    scores
    count
  }
  fragment M on Movie { minutes cast @skip(if: $noCast) { name } }
`;

const INPUTS: Record<string, unknown>[] = [
  // Everything present and valid.
  {
    m: { __typename: 'Book', id: '1', t: 'Dune', pages: 412, author: { name: 'Frank', kind: 'HUMAN' } },
    shelf: [{ __typename: 'Movie', id: '2', title: 'Alien' }],
    search: [{ __typename: 'Person', name: 'Ada' }, { __typename: 'Book', id: '1' }, null],
    scores: [1, 2],
    count: 3,
  },
  // A null in a non-null field bubbles to the nullable `m`; a null in a non-null list element
  // bubbles to the root through the non-null `shelf`.
  { m: { __typename: 'Book', id: '1', t: null, author: { name: 'x' } }, shelf: [{ __typename: 'Book', id: '3', title: null }], search: null, scores: null, count: 1 },
  // An unknown __typename, a bad enum value, a bad Int, a movie with cast.
  {
    m: { __typename: 'Movie', id: '2', t: 'Alien', minutes: 117, cast: [{ name: 'Ripley' }, null] },
    shelf: [],
    search: [{ __typename: 'Nope', id: 'z' }, { __typename: 'Person', name: 'Bot', kind: 'ALIEN' }],
    scores: [1, 'two'],
    count: 0,
  },
  // Missing fields everywhere: the non-null root `count` nulls all data.
  { m: null, shelf: [{ __typename: 'Movie', id: '4', title: 'T' }] },
];

describe('compiled shaping answers as @apollo/gateway computeResponse does', () => {
  const operation = operationFromDocument(schema, parse(OPERATION), { validate: false });
  const compiled = compileShape(operation);
  const introspect = () => {
    throw new Error('no introspection in this operation');
  };
  for (const variables of [{ noCast: false }, { noCast: true, withPages: false }]) {
    INPUTS.forEach((input, i) => {
      it(`input ${i}, variables ${JSON.stringify(variables)}`, () => {
        const expected = computeResponse({ operation, variables, input: structuredClone(input), introspectionHandling: introspect });
        const actual = compiled.shape(structuredClone(input), variables, introspect);
        expect(JSON.parse(JSON.stringify(actual.data))).toEqual(JSON.parse(JSON.stringify(expected.data)));
        expect(actual.errors.map((e) => ({ message: e.message, path: e.path, code: e.extensions['code'] }))).toEqual(
          expected.errors.map((e) => ({ message: e.message, path: e.path, code: e.extensions['code'] })),
        );
      });
    });
  }

  it('a non-boolean @skip variable fails as it does in @apollo/gateway', () => {
    const run = () => compiled.shape(structuredClone(INPUTS[2]!), { noCast: 'yes' }, introspect);
    expect(run).toThrow(/Unexpected value yes for variable \$noCast/);
    expect(() => computeResponse({ operation, variables: { noCast: 'yes' }, input: structuredClone(INPUTS[2]!), introspectionHandling: introspect })).toThrow(/Unexpected value yes/);
  });
});
