import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildAuthorizationIndex } from '../../../src/authorization/index.ts';
import { createOperationLimits } from '../../../src/hardening/index.ts';
import { deriveSupergraphViews } from '../../../src/supergraph/views.ts';
import { fixture } from '../authorization/fixtureSupergraph.ts';

describe('deriveSupergraphViews', () => {
  const views = deriveSupergraphViews(fixture.apiSchema, fixture.supergraphSdl, { limits: { maxCost: 50 } });

  it('gives the same authorization index as building it from the SDL alone', () => {
    const alone = buildAuthorizationIndex(fixture.apiSchema, fixture.supergraphSdl);
    expect(views.authorizationIndex.schema).toBe(fixture.apiSchema);
    expect(views.authorizationIndex.protectedFieldCount).toBe(alone.protectedFieldCount);
    expect(views.authorizationIndex.fieldRequirement('Product', 'costPrice')).toBeDefined();
    expect(views.authorizationIndex.fieldRequirement('Product', 'costPrice')).toEqual(alone.fieldRequirement('Product', 'costPrice'));
  });

  it('gives the same cost model and limits as building them from the SDL alone', () => {
    const alone = createOperationLimits({ maxCost: 50 }, { schema: fixture.apiSchema, supergraphSdl: fixture.supergraphSdl });
    const source = '{ expensive products(first: 3) { id name } search { __typename } }';
    const derived = views.operationLimits.analyze(source, parse(source));
    expect(views.operationLimits.limits.maxCost).toBe(50);
    expect(derived.figures).toEqual(alone.analyze(source, parse(source)).figures);
    // `@cost(weight: 50)` on `expensive` is read from the directives the views share.
    expect(derived.figures.cost).toBeGreaterThanOrEqual(50);
  });
});
