/**
 * The four subgraphs of the public federation benchmark (accounts, inventory, products,
 * reviews) as Federation 2 SDL plus resolvers for `@apollo/subgraph`. Shapes follow
 * /work/shared/bench/README.md; see data.ts for the data.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { parse } from 'graphql';
import type { DocumentNode } from 'graphql';
import {
  ENTITY_USERNAME,
  IN_STOCK,
  PRODUCTS,
  REVIEW_AUTHOR,
  REVIEWS,
  USER_REVIEWS,
  USERS,
} from './data.ts';
import type { ReviewRecord } from './data.ts';

export type PublicSubgraphName = 'accounts' | 'inventory' | 'products' | 'reviews';

export const PUBLIC_SUBGRAPH_NAMES: readonly PublicSubgraphName[] = ['accounts', 'inventory', 'products', 'reviews'];

export interface PublicSubgraph {
  readonly name: PublicSubgraphName;
  readonly typeDefs: DocumentNode;
  readonly resolvers: GraphQLResolverMap<unknown>;
}

const LINK = (imports: string[]): string =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: [${imports.map((i) => `"${i}"`).join(', ')}])`;

const accounts: PublicSubgraph = {
  name: 'accounts',
  typeDefs: parse(`
    ${LINK(['@key', '@shareable'])}
    type Query {
      me: User
      user(id: ID!): User
      users: [User]
    }
    type User @key(fields: "id") {
      id: ID!
      name: String
      username: String @shareable
      birthday: Int
    }
  `),
  resolvers: {
    Query: {
      me: () => USERS[0],
      user: (_: unknown, args: { id: string }) => USERS.find((u) => u.id === args.id) ?? null,
      users: () => USERS,
    },
    User: {
      __resolveReference: (ref: { id: string }) => USERS.find((u) => u.id === ref.id) ?? null,
    },
  },
};

const products: PublicSubgraph = {
  name: 'products',
  typeDefs: parse(`
    ${LINK(['@key'])}
    type Query {
      topProducts(first: Int = 5): [Product]
    }
    type Product @key(fields: "upc") {
      upc: String!
      name: String
      price: Int
      weight: Int
    }
  `),
  resolvers: {
    Query: {
      topProducts: (_: unknown, args: { first?: number | null }) => PRODUCTS.slice(0, args.first ?? 5),
    },
    Product: {
      __resolveReference: (ref: { upc: string }) => PRODUCTS.find((p) => p.upc === ref.upc) ?? null,
    },
  },
};

const inventory: PublicSubgraph = {
  name: 'inventory',
  typeDefs: parse(`
    ${LINK(['@key', '@external', '@requires'])}
    type Product @key(fields: "upc") {
      upc: String!
      weight: Int @external
      price: Int @external
      inStock: Boolean
      shippingEstimate: Int @requires(fields: "price weight")
    }
  `),
  resolvers: {
    Product: {
      __resolveReference: (ref: { upc: string }) => ({ upc: ref.upc, inStock: IN_STOCK[ref.upc] ?? null }),
      // The benchmark's resolver reads price and weight from its own (empty) record rather than
      // from the representation, so it always answers null; the gateway still pays for the
      // @requires wave, which is the point.
      shippingEstimate: () => null,
    },
  },
};

const reviewsOf = (upc: string): ReviewRecord[] => REVIEWS.filter((r) => r.productUpc === upc);
const toReview = (r: ReviewRecord) => ({ id: r.id, body: r.body, productUpc: r.productUpc });

const reviews: PublicSubgraph = {
  name: 'reviews',
  typeDefs: parse(`
    ${LINK(['@key', '@external', '@provides'])}
    type Review @key(fields: "id") {
      id: ID!
      body: String
      product: Product
      author: User @provides(fields: "username")
    }
    type User @key(fields: "id") {
      id: ID!
      username: String @external
      reviews: [Review]
    }
    type Product @key(fields: "upc") {
      upc: String!
      reviews: [Review]
    }
  `),
  resolvers: {
    Review: {
      __resolveReference: (ref: { id: string }) => {
        const review = REVIEWS.find((r) => r.id === ref.id);
        return review === undefined ? null : toReview(review);
      },
      product: (review: ReviewRecord) => ({ upc: review.productUpc }),
      author: () => ({ ...REVIEW_AUTHOR }),
    },
    User: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id, username: ENTITY_USERNAME }),
      reviews: () => USER_REVIEWS.map(toReview),
    },
    Product: {
      __resolveReference: (ref: { upc: string }) => ({ upc: ref.upc }),
      reviews: (product: { upc: string }) => reviewsOf(product.upc).map(toReview),
    },
  },
};

export const PUBLIC_SUBGRAPHS: Readonly<Record<PublicSubgraphName, PublicSubgraph>> = Object.freeze({
  accounts,
  inventory,
  products,
  reviews,
});
