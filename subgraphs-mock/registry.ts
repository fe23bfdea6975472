/** Every mock subgraph module by name: the one place that lists them. */
import { inventorySubgraph } from './inventory.ts';
import { pricingSubgraph } from './pricing.ts';
import { productSubgraph } from './product.ts';
import { reviewSubgraph } from './review.ts';
import type { MockName, MockSubgraph } from './subgraph.ts';

// Each module has its own context type; the server only passes contexts through, so erase it here.
export const MOCK_SUBGRAPHS: Readonly<Record<MockName, MockSubgraph<any>>> = Object.freeze({
  product: productSubgraph,
  pricing: pricingSubgraph,
  inventory: inventorySubgraph,
  review: reviewSubgraph,
});
