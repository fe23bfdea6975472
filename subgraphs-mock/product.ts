/**
 * product subgraph: owns `Product` (id, name, description, category) and catalogue browsing.
 */
import type DataLoader from 'dataloader';
import { catalog } from './data.ts';
import type { ProductRecord } from './data.ts';
import { countedLoader, loadTypeDefs, nonNegative } from './subgraph.ts';
import type { MockSubgraph } from './subgraph.ts';

interface ProductContext {
  readonly productById: DataLoader<string, ProductRecord | null>;
}

/** `products(first:)` default, mirroring the SDL's `first: Int = 20`. */
const DEFAULT_PAGE_SIZE = 20;

export const productSubgraph: MockSubgraph<ProductContext> = {
  name: 'product',
  typeDefs: loadTypeDefs('product'),
  create(stats) {
    const data = catalog();
    return {
      createContext: () => ({
        productById: countedLoader(stats, (ids) => ids.map((id) => data.productsById.get(id) ?? null)),
      }),
      resolvers: {
        Query: {
          product: (_: unknown, args: { id: string }, ctx: ProductContext) => ctx.productById.load(args.id),
          products: (_: unknown, args: { first?: number | null; offset?: number | null; category?: string | null }) => {
            const first = nonNegative('first', args.first ?? DEFAULT_PAGE_SIZE);
            const offset = nonNegative('offset', args.offset ?? 0);
            // One list read of the backend, however long the page.
            stats.count('backendLookups');
            const category = args.category;
            const matches = category == null ? data.products : data.products.filter((p) => p.category === category);
            return matches.slice(offset, offset + first);
          },
        },
        Product: {
          __resolveReference: (ref: { id: string }, ctx: ProductContext) => ctx.productById.load(ref.id),
        },
      },
    };
  },
};
