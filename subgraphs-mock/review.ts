/**
 * review subgraph: owns `Review`, adds `Product.reviews` / `Product.averageRating`, and has
 * review-only root fields (`latestReviews`, `addReview`) that keep working when the
 * review-for-Product path is broken.
 */
import type DataLoader from 'dataloader';
import { catalog } from './data.ts';
import type { ReviewRecord } from './data.ts';
import { badUserInput, countedLoader, loadTypeDefs, nonNegative } from './subgraph.ts';
import type { MockRequestInfo, MockSubgraph } from './subgraph.ts';

/**
 * Header naming the signed-in user; its value becomes a new review's author. Align with the
 * gateway's identity forwarding. Absent → {@link ANONYMOUS_AUTHOR}.
 */
export const AUTHOR_HEADER = 'x-portico-subject';
export const ANONYMOUS_AUTHOR = 'anonymous';

/** Review body limit, in characters; a mock needs a bound only to reject obvious abuse. */
export const MAX_REVIEW_BODY_CHARS = 2_000;

/** `first` defaults from the SDL (`first: Int = 5`). */
const DEFAULT_REVIEWS_PAGE = 5;

const MIN_RATING = 1;
const MAX_RATING = 5;

interface ReviewedProduct {
  readonly id: string;
  /** Oldest first. */
  readonly reviews: readonly ReviewRecord[];
}

interface ReviewContext {
  readonly reviewsByProductId: DataLoader<string, ReviewedProduct | null>;
  readonly reviewById: DataLoader<string, ReviewRecord | null>;
  readonly request: MockRequestInfo;
}

function authorOf(request: MockRequestInfo): string {
  const value = request.headers[AUTHOR_HEADER];
  const author = Array.isArray(value) ? value[0] : value;
  return author === undefined || author === '' ? ANONYMOUS_AUTHOR : author;
}

export const reviewSubgraph: MockSubgraph<ReviewContext> = {
  name: 'review',
  typeDefs: loadTypeDefs('review'),
  create(stats) {
    const data = catalog();
    // This instance's own store: seeded reviews plus those added through addReview, so two
    // mocks (or two tests) never see each other's writes.
    const all: ReviewRecord[] = [...data.reviews];
    const byId = new Map<string, ReviewRecord>(all.map((r) => [r.id, r]));
    const byProduct = new Map<string, ReviewRecord[]>();
    for (const r of all) {
      const list = byProduct.get(r.productId);
      if (list === undefined) byProduct.set(r.productId, [r]);
      else list.push(r);
    }

    return {
      createContext: (request) => ({
        request,
        reviewsByProductId: countedLoader(stats, (ids) =>
          ids.map((id) => (data.productsById.has(id) ? { id, reviews: byProduct.get(id) ?? [] } : null)),
        ),
        reviewById: countedLoader(stats, (ids) => ids.map((id) => byId.get(id) ?? null)),
      }),
      resolvers: {
        Query: {
          latestReviews: (_: unknown, args: { first?: number | null }) => {
            const first = nonNegative('first', args.first ?? DEFAULT_REVIEWS_PAGE);
            stats.count('backendLookups');
            // Newest first; ids grow with creation, so the tail of `all` is the newest.
            return all.slice(Math.max(0, all.length - first)).reverse();
          },
        },
        Mutation: {
          addReview: (_: unknown, args: { productId: string; rating: number; body: string }, ctx: ReviewContext) => {
            if (!data.productsById.has(args.productId)) throw badUserInput(`no product with id "${args.productId}"`);
            if (!Number.isInteger(args.rating) || args.rating < MIN_RATING || args.rating > MAX_RATING) {
              throw badUserInput(`rating must be an integer ${MIN_RATING}..${MAX_RATING}, got ${args.rating}`);
            }
            const body = args.body.trim();
            if (body === '' || body.length > MAX_REVIEW_BODY_CHARS) {
              throw badUserInput(`body must be 1..${MAX_REVIEW_BODY_CHARS} characters`);
            }
            const review: ReviewRecord = {
              id: `r${all.length + 1}`,
              productId: args.productId,
              rating: args.rating,
              body,
              author: authorOf(ctx.request),
            };
            all.push(review);
            byId.set(review.id, review);
            const list = byProduct.get(review.productId);
            if (list === undefined) byProduct.set(review.productId, [review]);
            else list.push(review);
            stats.count('mutations');
            return review;
          },
        },
        Product: {
          __resolveReference: (ref: { id: string }, ctx: ReviewContext) => ctx.reviewsByProductId.load(ref.id),
          reviews: (parent: ReviewedProduct, args: { first?: number | null }) =>
            parent.reviews.slice(0, nonNegative('first', args.first ?? DEFAULT_REVIEWS_PAGE)),
          averageRating: (parent: ReviewedProduct) => {
            if (parent.reviews.length === 0) return null;
            const sum = parent.reviews.reduce((acc, r) => acc + r.rating, 0);
            // Two decimals: what a product page shows, and stable to compare in tests.
            return Math.round((sum / parent.reviews.length) * 100) / 100;
          },
        },
        Review: {
          __resolveReference: (ref: { id: string }, ctx: ReviewContext) => ctx.reviewById.load(ref.id),
        },
      },
    };
  },
};
