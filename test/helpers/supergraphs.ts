import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as esmGraphql from 'graphql';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { prepareForGateway } from '../../src/supergraph/prepare.ts';

/** A supergraph file as the gateway sees it: its SDL and the API schema operations are validated against. */
export interface LoadedSupergraph {
  readonly supergraphSdl: string;
  readonly schema: GraphQLSchema;
}

/**
 * Reads a composed supergraph file and derives its API schema the way `@apollo/gateway` does
 * (federation-internals' `Supergraph`). Rebuilt from SDL: under vitest `graphql` resolves to its
 * ESM build while @apollo/* load the CJS one, and graphql-js refuses objects from the other.
 */
export function loadSupergraph(path: string): LoadedSupergraph {
  const supergraphSdl = readFileSync(path, 'utf8');
  const require = createRequire(import.meta.url);
  const { Supergraph } = require('@apollo/federation-internals') as { Supergraph: { build(sdl: string): { apiSchema(): { toGraphQLJSSchema(): unknown } } } };
  const cjsGraphql = require('graphql') as typeof esmGraphql;
  const api = Supergraph.build(prepareForGateway(supergraphSdl)).apiSchema().toGraphQLJSSchema() as esmGraphql.GraphQLSchema;
  return { supergraphSdl, schema: buildSchema(cjsGraphql.printSchema(api)) };
}
