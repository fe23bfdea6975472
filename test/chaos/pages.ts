import { graphqlPost, type LoadRequest } from '../cluster/load.ts';

/** Products in the mock catalogue (subgraphs-mock/data.ts). */
const CATALOGUE_SIZE = 1_200;
const PAGE = (first: number) =>
  `{ products(first: ${first}) { id name price { amount currency } inventory { inStock quantity } reviews(first: 3) { id rating body } averageRating } }`;
const PRODUCT = 'query Product($id: ID!) { product(id: $id) { id name description price { amount currency } inventory { inStock } reviews(first: 5) { rating body } } }';

/**
 * Request n of a varied storefront: product-list pages of 3 to 12 products (most of them), and
 * single products by id across the catalogue. Every one reads all four subgraphs, and few are
 * identical at the same moment, so in-flight dedup shares little: the worst case for a breaker
 * that only counted the calls it sent.
 */
export function pageMix(baseUrl: string): (n: number) => LoadRequest {
  const post = (kind: string, query: string, variables?: Record<string, unknown>) => graphqlPost(baseUrl, kind, query, variables);
  return (n) => (n % 4 === 3 ? post('product', PRODUCT, { id: String(1 + ((n * 7919) % CATALOGUE_SIZE)) }) : post('page', PAGE(3 + (n % 10))));
}

/** What is wrong with a 200 answer: a product without its name (degraded fields may be null). */
export function pageProblem(body: any): string | undefined {
  const data = body?.data;
  if (!data) return `no data: ${JSON.stringify(body).slice(0, 200)}`;
  const list: any[] = data.products ?? (data.product ? [data.product] : []);
  if (list.length === 0) return `no products: ${JSON.stringify(body).slice(0, 200)}`;
  if (list.some((p) => !p || typeof p.name !== 'string' || p.name === '')) return `a product without its name: ${JSON.stringify(body).slice(0, 200)}`;
  return undefined;
}
