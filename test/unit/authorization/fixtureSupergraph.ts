import { createRequire } from 'node:module';
import { composeServices } from '@apollo/composition';
import type * as esmGraphql from 'graphql';
import { buildSchema, parse, type GraphQLSchema } from 'graphql';

/**
 * A small supergraph composed in-process (no dependency on the demo schemas) exercising every
 * directive the authorization and hardening code reads: @authenticated, @requiresScopes,
 * @policy on fields and types, requirements on interface implementations, @cost, @listSize.
 */
const catalog = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9",
    import: ["@key", "@authenticated", "@requiresScopes", "@policy", "@cost", "@listSize"])

  type Query {
    product(id: ID!): Product
    products(first: Int = 5, category: String): [Product!]!
      @listSize(slicingArguments: ["first"], requireOneSlicingArgument: false)
    topProducts(limit: Int): [Product!]!
    secretStats: Stats
    search(text: String): [SearchResult!]! @listSize(assumedSize: 20)
    node(id: ID!): Node
    expensive: Int @cost(weight: 50)
    connection(first: Int): ProductConnection
      @listSize(slicingArguments: ["first"], sizedFields: ["edges"], requireOneSlicingArgument: false)
  }

  interface Node { id: ID! label: String }

  type Product implements Node @key(fields: "id") {
    id: ID!
    label: String
    name: String
    costPrice: Float @requiresScopes(scopes: [["pricing:internal"], ["admin", "finance"]])
    priceHistory(days: Int): [Float] @requiresScopes(scopes: [["pricing:internal"]])
    supplier: Supplier @policy(policies: [["supplier_view"]])
    internalCode: String! @authenticated
    variants(first: Int): [Variant!]!
    related(first: Int): [Product!]!
  }

  type Variant { sku: String margin: Float @requiresScopes(scopes: [["pricing:internal"]]) }
  type Supplier @authenticated { id: ID! name: String }
  type Stats @requiresScopes(scopes: [["stats:read"]]) { views: Int }
  type Article implements Node { id: ID! label: String @authenticated title: String }
  union SearchResult = Product | Article
  type ProductConnection { edges: [ProductEdge!]! totalCount: Int }
  type ProductEdge { cursor: String node: Product! }
`;

const reviews = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9",
    import: ["@key", "@authenticated", "@requiresScopes"])

  type Product @key(fields: "id") { id: ID! reviews(limit: Int = 3): [Review!]! }
  type Review { id: ID! body: String author: String @authenticated }
  type Mutation {
    addReview(productId: ID!, body: String!): Review @authenticated @requiresScopes(scopes: [["review:write"]])
    ping: Boolean
  }
`;

function compose(): { supergraphSdl: string; apiSchema: GraphQLSchema } {
  const result = composeServices([
    { name: 'catalog', typeDefs: parse(catalog), url: 'http://127.0.0.1:1/graphql' },
    { name: 'reviews', typeDefs: parse(reviews), url: 'http://127.0.0.1:2/graphql' },
  ]);
  if (result.errors !== undefined) throw new Error(result.errors.map(String).join('\n'));
  // Rebuilt from SDL rather than `toGraphQLJSSchema()`: under vitest, `graphql` resolves to its
  // ESM build while @apollo/* load the CJS one, and graphql-js refuses objects from the other.
  const cjsGraphql = createRequire(import.meta.url)('graphql') as typeof esmGraphql;
  const apiSdl = cjsGraphql.printSchema(result.schema.toAPISchema().toGraphQLJSSchema());
  return { supergraphSdl: result.supergraphSdl, apiSchema: buildSchema(apiSdl) };
}

export const fixture = compose();
