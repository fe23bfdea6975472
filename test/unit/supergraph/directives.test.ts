import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildAuthorizationIndex } from '../../../src/authorization/index.ts';
import { readSupergraphDirectives } from '../../../src/supergraph/directives.ts';
import { createOperationLimits } from '../../../src/hardening/index.ts';

const apiSchema = buildSchema('type Query { open: Int guarded: Int items(size: Int): [Item!]! } type Item { id: ID }');

/** A hand-written supergraph header that renames features, as `@link` allows. */
const renamedSupergraph = `
  schema
    @link(url: "https://specs.apollo.dev/link/v1.0")
    @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", import: [{ name: "@requiresScopes", as: "@scopes" }])
    @link(url: "https://specs.apollo.dev/authenticated/v0.1", as: "authn")
    @link(url: "https://specs.apollo.dev/cost/v0.1", as: "demand")
  { query: Query }
  type Query {
    open: Int @requiresScopes(scopes: [["ignored"]])
    guarded: Int @scopes(scopes: [["x"]]) @authn
    items(size: Int): [Item!]! @demand__listSize(slicingArguments: ["size"]) @demand(weight: 3)
  }
  type Item { id: ID }
`;

describe('supergraph directive names', () => {
  it('resolves names through @link imports, renames and prefixes', () => {
    const directives = readSupergraphDirectives(parse(renamedSupergraph));
    expect(directives.nameOf({ spec: 'requiresScopes', directive: 'requiresScopes' })).toBe('scopes');
    expect(directives.nameOf({ spec: 'authenticated', directive: 'authenticated' })).toBe('authn');
    expect(directives.nameOf({ spec: 'cost', directive: 'cost' })).toBe('demand');
    expect(directives.nameOf({ spec: 'cost', directive: 'listSize' })).toBe('demand__listSize');
    // Not linked: the default name.
    expect(directives.nameOf({ spec: 'policy', directive: 'policy' })).toBe('policy');
  });

  it('reads requirements under their linked names only', () => {
    const index = buildAuthorizationIndex(apiSchema, renamedSupergraph);
    expect(index.fieldRequirement('Query', 'open')).toBeUndefined();
    expect(index.fieldRequirement('Query', 'guarded')).toMatchObject({ authenticated: true, scopes: [[['x']]] });
  });

  it('reads cost directives under their linked names', () => {
    const limits = createOperationLimits({}, { schema: apiSchema, supergraphSdl: renamedSupergraph });
    const source = '{ items(size: 4) { id } }';
    // Demand-control convention: 4 items (the slicing argument), each weighing 3 instead of an
    // object's 1; scalars are free. Unlinked names (`@cost`, `@listSize`) would give 4 × 1 = 4 or 10 × 1.
    expect(limits.analyze(source, parse(source)).figures.cost).toBe(12);
  });

  it('refuses a supergraph with a malformed requirement', () => {
    const broken = renamedSupergraph.replace('@scopes(scopes: [["x"]])', '@scopes(scopes: "x")');
    expect(() => buildAuthorizationIndex(apiSchema, broken)).toThrow('@scopes(scopes:) on Query.guarded');
  });
});
