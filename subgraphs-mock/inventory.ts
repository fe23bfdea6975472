/**
 * inventory subgraph: adds `Product.inventory` (stock level and warehouse).
 */
import type DataLoader from 'dataloader';
import { catalog } from './data.ts';
import type { InventoryRecord } from './data.ts';
import { countedLoader, loadTypeDefs } from './subgraph.ts';
import type { MockSubgraph } from './subgraph.ts';

interface StockedProduct {
  readonly id: string;
  readonly inventory: InventoryRecord;
}

interface InventoryContext {
  readonly stockById: DataLoader<string, StockedProduct | null>;
}

export const inventorySubgraph: MockSubgraph<InventoryContext> = {
  name: 'inventory',
  typeDefs: loadTypeDefs('inventory'),
  create(stats) {
    const data = catalog();
    const lookup = (id: string): StockedProduct | null => {
      const inventory = data.inventoryById.get(id);
      return inventory === undefined ? null : { id, inventory };
    };
    return {
      createContext: () => ({ stockById: countedLoader(stats, (ids) => ids.map(lookup)) }),
      resolvers: {
        Product: {
          __resolveReference: (ref: { id: string }, ctx: InventoryContext) => ctx.stockById.load(ref.id),
        },
      },
    };
  },
};
