/**
 * The three workloads of the side-by-side benchmark.
 *
 * - a `product-page`: Portico's product page, every request byte-identical (dedup can help).
 * - b `public-benchmark`: The Guild's gateways-benchmark `TestQuery` (~87 KB answer, ~10
 *   subgraph fetches in 4 waves) against our Node copies of its subgraphs.
 * - c `product-page-varied`: the same page with different variables on every request
 *   (category, offset, page size, review count; one request in four fetches one product by id),
 *   so neither inbound nor subgraph-level dedup can help.
 */
import { readFileSync } from 'node:fs';
import { CATEGORIES, PRODUCT_COUNT, mulberry32 } from '../subgraphs-mock/data.ts';

export type WorkloadId = 'a' | 'b' | 'c';
/** Which subgraphs and supergraph a workload runs against. */
export type SubgraphSet = 'demo' | 'public';

export interface Workload {
  readonly id: WorkloadId;
  readonly name: string;
  readonly set: SubgraphSet;
  readonly summary: string;
  /** Identical body for every request, or undefined when bodies vary. */
  readonly fixedBody: string | undefined;
  /** A fresh generator of varied bodies (same sequence on every call), when bodies vary. */
  readonly bodyGenerator: (() => () => string) | undefined;
  /** Bodies whose answers are compared with the golden answers before a gateway is timed. */
  readonly checkBodies: readonly string[];
  /** Independent plausibility check of an answer's `data` (so the golden source is sane too). */
  sanity(data: unknown): string | undefined;
}

const PAGE_FIELDS = `
    id
    name
    description
    category
    price { amount currency }
    inventory { inStock quantity warehouse }
    reviews(first: $reviews) { id rating body author }
    averageRating`;

/** The product page exactly as the issue states it. */
export const PRODUCT_PAGE_QUERY = `query ProductPage {
  products(first: 20) {
    id
    name
    description
    category
    price { amount currency }
    inventory { inStock quantity warehouse }
    reviews(first: 3) { id rating body author }
    averageRating
  }
}`;

export const PRODUCT_PAGE_VARIED_QUERY = `query ProductPage($first: Int!, $offset: Int!, $category: String, $reviews: Int!) {
  products(first: $first, offset: $offset, category: $category) {${PAGE_FIELDS}
  }
}`;

export const PRODUCT_DETAIL_QUERY = `query ProductDetail($id: ID!, $reviews: Int!) {
  product(id: $id) {${PAGE_FIELDS}
  }
}`;

export const PUBLIC_TEST_QUERY = readFileSync(new URL('./public/test-query.graphql', import.meta.url), 'utf8');

/** Distinct bodies in workload c's cycle: far more than the 50 requests in flight at once. */
const VARIED_POOL_SIZE = 4_096;
/** How many of them every gateway must answer exactly like the golden source. */
const VARIED_CHECKS = 24;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkProduct(p: unknown, where: string): string | undefined {
  if (!isObject(p)) return `${where} is not an object`;
  for (const field of ['id', 'name', 'price', 'inventory', 'reviews'] as const) {
    if (p[field] === null || p[field] === undefined) return `${where}.${field} is null or missing`;
  }
  return undefined;
}

/** Workload c's request bodies, deterministic (seeded), all distinct. */
export function variedBodies(size = VARIED_POOL_SIZE): string[] {
  const rand = mulberry32(0xbe_7c4);
  const int = (min: number, max: number) => min + Math.floor(rand() * (max - min + 1));
  const seen = new Set<string>();
  const bodies: string[] = [];
  while (bodies.length < size) {
    let body: string;
    if (bodies.length % 4 === 3) {
      body = JSON.stringify({
        query: PRODUCT_DETAIL_QUERY,
        operationName: 'ProductDetail',
        variables: { id: String(int(1, PRODUCT_COUNT)), reviews: int(1, 5) },
      });
    } else {
      const category = rand() < 0.25 ? null : (CATEGORIES[int(0, CATEGORIES.length - 1)] ?? null);
      // Offsets stay inside the matches, so pages are full: ~150 products per category.
      const offset = category === null ? int(0, PRODUCT_COUNT - 40) : int(0, 100);
      body = JSON.stringify({
        query: PRODUCT_PAGE_VARIED_QUERY,
        operationName: 'ProductPage',
        variables: { first: int(10, 30), offset, category, reviews: int(1, 5) },
      });
    }
    if (seen.has(body)) continue;
    seen.add(body);
    bodies.push(body);
  }
  return bodies;
}

function cycle(bodies: readonly string[]): () => () => string {
  return () => {
    let i = 0;
    return () => bodies[i++ % bodies.length] as string;
  };
}

function buildWorkloads(): Record<WorkloadId, Workload> {
  const pageBody = JSON.stringify({ query: PRODUCT_PAGE_QUERY, operationName: 'ProductPage' });
  const varied = variedBodies();
  const step = Math.floor(varied.length / VARIED_CHECKS);
  const publicBody = JSON.stringify({ query: PUBLIC_TEST_QUERY, operationName: 'TestQuery' });
  return {
    a: {
      id: 'a',
      name: 'product-page',
      set: 'demo',
      summary: 'ProductPage, products(first: 20), identical requests',
      fixedBody: pageBody,
      bodyGenerator: undefined,
      checkBodies: [pageBody],
      sanity(data) {
        if (!isObject(data) || !Array.isArray(data['products'])) return 'data.products is not a list';
        if (data['products'].length !== 20) return `expected 20 products, got ${data['products'].length}`;
        for (const [i, p] of data['products'].entries()) {
          const problem = checkProduct(p, `products[${i}]`);
          if (problem !== undefined) return problem;
        }
        return undefined;
      },
    },
    c: {
      id: 'c',
      name: 'product-page-varied',
      set: 'demo',
      summary: `ProductPage/ProductDetail, ${varied.length} distinct variable sets cycled`,
      fixedBody: undefined,
      bodyGenerator: cycle(varied),
      checkBodies: Array.from({ length: VARIED_CHECKS }, (_, i) => varied[i * step] as string),
      sanity(data) {
        if (!isObject(data)) return 'data is not an object';
        if (Array.isArray(data['products'])) {
          if (data['products'].length === 0) return 'products page is empty';
          for (const [i, p] of data['products'].entries()) {
            const problem = checkProduct(p, `products[${i}]`);
            if (problem !== undefined) return problem;
          }
          return undefined;
        }
        return checkProduct(data['product'], 'product');
      },
    },
    b: {
      id: 'b',
      name: 'public-benchmark',
      set: 'public',
      summary: 'gateways-benchmark TestQuery (~87 KB answer)',
      fixedBody: publicBody,
      bodyGenerator: undefined,
      checkBodies: [publicBody],
      sanity(data) {
        if (!isObject(data)) return 'data is not an object';
        const users = data['users'];
        const top = data['topProducts'];
        if (!Array.isArray(users) || users.length !== 6) return 'expected 6 users';
        if (!Array.isArray(top) || top.length !== 5) return 'expected 5 topProducts';
        const size = JSON.stringify({ data }).length;
        if (size < 70_000 || size > 110_000) return `answer is ${size} bytes; the benchmark's is ~87 KB`;
        return undefined;
      },
    },
  };
}

export const WORKLOADS: Readonly<Record<WorkloadId, Workload>> = Object.freeze(buildWorkloads());

/** Run order of workloads within one gateway process: a before c (c reuses a's warm-up). */
export const WORKLOAD_ORDER: readonly WorkloadId[] = ['a', 'c', 'b'];
