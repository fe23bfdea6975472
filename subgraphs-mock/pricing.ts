/**
 * pricing subgraph: adds `Product.price` and the scope-protected `Product.costPrice`.
 * Authorization (`@requiresScopes`) is the gateway's job; this mock always answers both.
 */
import type DataLoader from 'dataloader';
import { catalog } from './data.ts';
import type { PriceRecord } from './data.ts';
import { countedLoader, loadTypeDefs } from './subgraph.ts';
import type { MockSubgraph } from './subgraph.ts';

type PricedProduct = PriceRecord & { readonly id: string };

interface PricingContext {
  readonly priceById: DataLoader<string, PricedProduct | null>;
}

export const pricingSubgraph: MockSubgraph<PricingContext> = {
  name: 'pricing',
  typeDefs: loadTypeDefs('pricing'),
  create(stats) {
    const data = catalog();
    const lookup = (id: string): PricedProduct | null => {
      const price = data.pricesById.get(id);
      return price === undefined ? null : { id, ...price };
    };
    return {
      createContext: () => ({ priceById: countedLoader(stats, (ids) => ids.map(lookup)) }),
      resolvers: {
        Product: {
          __resolveReference: (ref: { id: string }, ctx: PricingContext) => ctx.priceById.load(ref.id),
        },
      },
    };
  },
};
