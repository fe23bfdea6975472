/**
 * Data of the public federation benchmark's subgraphs (graphql-hive/graphql-gateways-benchmark),
 * reproduced in shape and size: 6 users, 9 products (topProducts returns the first 5), inventory
 * for each product, 11 reviews. Review bodies are our own filler text, cut to the exact lengths
 * of the published ones (143..844 characters), so that a `TestQuery` response weighs the same
 * (~87 KB) and gateways serialise the same amount of JSON.
 */

export interface UserRecord {
  readonly id: string;
  readonly name: string;
  readonly username: string;
  /** Seconds since the epoch, as the benchmark's Int. */
  readonly birthday: number;
}

export interface ProductRecord {
  readonly upc: string;
  readonly name: string;
  readonly price: number;
  readonly weight: number;
}

export interface ReviewRecord {
  readonly id: string;
  readonly body: string;
  readonly productUpc: string;
}

export const USERS: readonly UserRecord[] = Object.freeze([
  { id: '1', name: 'Ada Byron', username: 'urigo', birthday: 1_234_567_890 },
  { id: '2', name: 'Grace Hopper', username: 'ghopper', birthday: 1_234_567_890 },
  { id: '3', name: 'Alan Turing', username: 'aturing', birthday: 1_234_567_890 },
  { id: '4', name: 'Edsger Dijkstra', username: 'edijkstra', birthday: 1_234_567_890 },
  { id: '5', name: 'Barbara Liskov', username: 'bliskov', birthday: 1_234_567_890 },
  { id: '6', name: 'Donald Knuth', username: 'dknuth', birthday: 1_234_567_890 },
]);

export const PRODUCTS: readonly ProductRecord[] = Object.freeze([
  { upc: '1', name: 'Table', price: 899, weight: 100 },
  { upc: '2', name: 'Couch', price: 1299, weight: 1000 },
  { upc: '3', name: 'Glass', price: 15, weight: 20 },
  { upc: '4', name: 'Chair', price: 499, weight: 100 },
  { upc: '5', name: 'TV', price: 1299, weight: 1000 },
  { upc: '6', name: 'Lamp', price: 6999, weight: 300 },
  { upc: '7', name: 'Grill', price: 3999, weight: 2000 },
  { upc: '8', name: 'Fridge', price: 100000, weight: 6000 },
  { upc: '9', name: 'Sofa', price: 9999, weight: 800 },
]);

/** In-stock flag per upc, as in the benchmark's inventory subgraph. */
export const IN_STOCK: Readonly<Record<string, boolean>> = Object.freeze({
  '1': true, '2': false, '3': false, '4': false, '5': true, '6': true, '7': true, '8': false, '9': true,
});

const FILLER =
  'The quick brown fox jumps over the lazy dog while a federated gateway plans four waves of ' +
  'subgraph fetches, merges entity representations and serialises a large JSON document back ' +
  'to the client. ';

/** Deterministic text of exactly `length` characters. */
function filler(length: number, offset: number): string {
  let text = '';
  while (text.length < length + offset) text += FILLER;
  return text.slice(offset, offset + length);
}

// Lengths of the published review bodies, review "1" first. Reviews 1-4 are on product 1,
// 5-8 on product 2, 9 on product 3, 10 and 11 on product 4.
const REVIEW_SHAPES: readonly (readonly [length: number, productUpc: string])[] = [
  [445, '1'], [289, '1'], [275, '1'], [143, '1'],
  [445, '2'], [289, '2'], [275, '2'], [143, '2'],
  [143, '3'], [143, '4'], [844, '4'],
];

export const REVIEWS: readonly ReviewRecord[] = Object.freeze(
  REVIEW_SHAPES.map(([length, productUpc], i) => ({ id: String(i + 1), body: filler(length, i * 7), productUpc })),
);

/** Every review's author, as the benchmark's reviews subgraph answers it (with `@provides`). */
export const REVIEW_AUTHOR = Object.freeze({ id: '1', username: 'urigo' });

/** Username the reviews subgraph answers for any User entity it resolves itself. */
export const ENTITY_USERNAME = 'user';

/** The reviews every user is credited with in the reviews subgraph: the first two. */
export const USER_REVIEWS: readonly ReviewRecord[] = REVIEWS.slice(0, 2);
