import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { sampleValue, scrape } from './promText.ts';

const MANIFEST = 'schemas/subgraphs.json';

/**
 * The demo subgraphs composed after `edit` changed their SDL (by subgraph name): a supergraph
 * that composes but may not match what the running subgraphs serve.
 */
export function composeEdited(edit: (name: string, sdl: string) => string): string {
  const entries = JSON.parse(readFileSync(MANIFEST, 'utf8')) as { name: string; file: string; url: string }[];
  const result = composeServices(
    entries.map((e) => ({ name: e.name, url: e.url, typeDefs: parse(edit(e.name, readFileSync(join(dirname(MANIFEST), e.file), 'utf8'))) })),
  );
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.supergraphSdl;
}

/**
 * Composable but broken: the supergraph says `Product.category` is resolved by the review
 * subgraph, which has no such field (the product team moved it, the review team never shipped
 * it). Every product query asking for it fails on its review fetch.
 */
export function brokenSupergraph(): string {
  return composeEdited((name, sdl) => {
    if (name === 'product') return sdl.replace(/\n\s*category: String!/, '');
    if (name === 'review') return sdl.replace('type Product @key(fields: "id") {\n  id: ID!', 'type Product @key(fields: "id") {\n  id: ID!\n  category: String!');
    return sdl;
  });
}

/** One metric value from an ops listener (0 when absent). */
export async function metric(opsUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sampleValue(await scrape(opsUrl), name, labels) ?? 0;
}
