/**
 * The mock catalogue: deterministic, seeded data shared by the four mock subgraphs.
 *
 * Every run (and every process) builds exactly the same products, prices, stock and reviews, so
 * tests can assert on concrete values and benchmarks compare like with like. Nothing here does
 * I/O or counts lookups; the subgraph modules do that.
 */

/** PRNG seed; change it and every expected value in the tests changes with it. */
export const DATA_SEED = 0x5eed_2024;

/** Catalogue size: ids are "1".."1200". Large enough that paging and batching matter. */
export const PRODUCT_COUNT = 1_200;
/**
 * The largest catalogue the mocks can be asked for ({@link useCatalogSize}): the cache benchmark
 * runs over the 10,000 products issue 17 names; more only costs start-up time and memory.
 */
export const MAX_PRODUCT_COUNT = 100_000;

/** Reviews per product, inclusive bounds. */
export const MIN_REVIEWS_PER_PRODUCT = 2;
export const MAX_REVIEWS_PER_PRODUCT = 6;

export const CATEGORIES = [
  'books',
  'electronics',
  'garden',
  'grocery',
  'home',
  'sports',
  'toys',
  'fashion',
] as const;

export const WAREHOUSES = ['AMS-1', 'FRA-2', 'LHR-1', 'IAD-3'] as const;

export const CURRENCY = 'USD';

export interface ProductRecord {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly category: string;
}

export interface MoneyRecord {
  readonly amount: number;
  readonly currency: string;
}

export interface PriceRecord {
  readonly price: MoneyRecord;
  readonly costPrice: MoneyRecord;
}

export interface InventoryRecord {
  readonly inStock: boolean;
  readonly quantity: number;
  readonly warehouse: string;
}

export interface ReviewRecord {
  readonly id: string;
  readonly productId: string;
  readonly rating: number;
  readonly body: string;
  readonly author: string;
}

/** The whole seeded data set, keyed by product id where that is how it is looked up. */
export interface Catalog {
  /** In id order ("1" first), which is the catalogue's listing order. */
  readonly products: readonly ProductRecord[];
  readonly productsById: ReadonlyMap<string, ProductRecord>;
  readonly pricesById: ReadonlyMap<string, PriceRecord>;
  readonly inventoryById: ReadonlyMap<string, InventoryRecord>;
  /** Seeded reviews in creation order: "r1", "r2", … */
  readonly reviews: readonly ReviewRecord[];
}

/** mulberry32: a tiny, fast, well-distributed 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const ADJECTIVES = ['Compact', 'Classic', 'Deluxe', 'Eco', 'Rugged', 'Smart', 'Vintage', 'Ultra', 'Handmade', 'Portable'];
const NOUNS = ['Lamp', 'Kettle', 'Backpack', 'Notebook', 'Speaker', 'Planter', 'Puzzle', 'Jacket', 'Bottle', 'Chair', 'Drone', 'Blender'];
const FEATURES = ['built to last', 'easy to clean', 'made from recycled materials', 'with a two-year warranty', 'ships flat-packed', 'award-winning design'];
const FIRST_NAMES = ['Ada', 'Bram', 'Chen', 'Dara', 'Emil', 'Fatima', 'Goran', 'Hana', 'Ivo', 'Jun', 'Kofi', 'Lena'];
const LAST_NAMES = ['Okafor', 'Novak', 'Silva', 'Tanaka', 'Weber', 'Haddad', 'Larsen', 'Moreau'];
const REVIEW_OPENERS = ['Does the job.', 'Better than expected.', 'Not worth the price.', 'Arrived quickly.', 'Would buy again.', 'Broke after a week.'];
const REVIEW_DETAILS = ['The finish is excellent.', 'Instructions were unclear.', 'Great value overall.', 'Smaller than it looks.', 'My kids love it.', 'Packaging was wasteful.'];

/** Rounds to cents; money is stored as a float in the schema, so keep it exact to 2 places. */
function cents(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * Builds the catalogue from {@link DATA_SEED}. Pure: same output on every call. Products are
 * drawn one after another from one seeded sequence, so a longer catalogue starts with exactly the
 * products (and reviews) of a shorter one.
 */
export function buildCatalog(seed: number = DATA_SEED, count: number = PRODUCT_COUNT): Catalog {
  const rand = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const intBetween = (min: number, max: number): number => min + Math.floor(rand() * (max - min + 1));

  const products: ProductRecord[] = [];
  const productsById = new Map<string, ProductRecord>();
  const pricesById = new Map<string, PriceRecord>();
  const inventoryById = new Map<string, InventoryRecord>();
  const reviews: ReviewRecord[] = [];

  for (let n = 1; n <= count; n++) {
    const id = String(n);
    const category = pick(CATEGORIES);
    const name = `${pick(ADJECTIVES)} ${pick(NOUNS)} ${n}`;
    const product: ProductRecord = {
      id,
      name,
      description: `A ${category} favourite: the ${name.toLowerCase()}, ${pick(FEATURES)}.`,
      category,
    };
    products.push(product);
    productsById.set(id, product);

    const amount = cents(5 + rand() * 495);
    // Cost is 40–80 % of the selling price, so margins look plausible.
    const costAmount = cents(amount * (0.4 + rand() * 0.4));
    pricesById.set(id, {
      price: { amount, currency: CURRENCY },
      costPrice: { amount: costAmount, currency: CURRENCY },
    });

    // About one product in eight is out of stock, so inStock is worth asserting on.
    const quantity = rand() < 0.125 ? 0 : intBetween(1, 500);
    inventoryById.set(id, { inStock: quantity > 0, quantity, warehouse: pick(WAREHOUSES) });

    const reviewCount = intBetween(MIN_REVIEWS_PER_PRODUCT, MAX_REVIEWS_PER_PRODUCT);
    for (let r = 0; r < reviewCount; r++) {
      reviews.push({
        id: `r${reviews.length + 1}`,
        productId: id,
        rating: intBetween(1, 5),
        body: `${pick(REVIEW_OPENERS)} ${pick(REVIEW_DETAILS)}`,
        author: `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`,
      });
    }
  }

  return { products, productsById, pricesById, inventoryById, reviews };
}

let shared: Catalog | undefined;

/**
 * The process-wide catalogue, built on first use. Read-only: a subgraph that mutates (review)
 * keeps its additions in its own per-instance store on top of this.
 */
export function catalog(): Catalog {
  shared ??= buildCatalog();
  return shared;
}

/**
 * Makes this process's catalogue `count` products long (default {@link PRODUCT_COUNT}); call it
 * before any mock starts. The first 1,200 products are the same whatever the size, so only what
 * depends on the catalogue's length (last id, category counts) changes.
 */
export function useCatalogSize(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PRODUCT_COUNT) throw new Error(`catalogue size must be an integer from 1 to ${MAX_PRODUCT_COUNT}, got ${count}`);
  if (shared?.products.length === count) return;
  shared = buildCatalog(DATA_SEED, count);
}
