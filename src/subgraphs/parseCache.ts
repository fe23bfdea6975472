import { parse, type DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';

/**
 * Fetch documents kept per data source. Each subgraph gets its own fetch texts, so one cache per
 * data source holds what the former process-wide cache of the same size held for it, and the
 * bound keeps memory flat under a flood of distinct operations.
 */
export const DEFAULT_PARSE_CACHE_MAX_ENTRIES = 2_000;

/** Parsed fetch documents for callers that do not hand us the plan's DocumentNode. */
export interface ParseCache {
  /** The document of `query`, parsed once while it stays in the cache; throws on invalid syntax. */
  parse(query: string): DocumentNode;
}

export function createParseCache(options: { maxEntries?: number } = {}): ParseCache {
  const parsed = new LRUCache<string, DocumentNode>({ max: options.maxEntries ?? DEFAULT_PARSE_CACHE_MAX_ENTRIES });
  return {
    parse(query) {
      let doc = parsed.get(query);
      if (!doc) {
        doc = parse(query);
        parsed.set(query, doc);
      }
      return doc;
    },
  };
}
