import { createHash } from 'node:crypto';
import { parse, print, type DocumentNode } from 'graphql';

/**
 * The trusted documents list, parsed from one of the two manifest formats clients' build tools
 * emit. Pure: text in, lookup tables out.
 *
 * - Apollo's persisted query list (`@apollo/generate-persisted-query-manifest`, Rover):
 *   `{ "format": "apollo-persisted-query-manifest", "version": 1,
 *      "operations": [{ "id", "name", "type", "body" }] }`; Apollo Client sends the `id` as
 *   `extensions.persistedQuery.sha256Hash`.
 * - Relay's `persisted_queries.json`: `{ "<id>": "<document text>" }`; Relay sends the id as
 *   the top-level `documentId` (GraphQL over HTTP's name for it).
 */

export const APOLLO_MANIFEST_FORMAT = 'apollo-persisted-query-manifest';

/** Thrown when a manifest is unusable; `problems` names each, at most {@link MAX_REPORTED_PROBLEMS}. */
export class TrustedDocumentsManifestError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'TrustedDocumentsManifestError';
  }
}

/** A broken manifest of 10,000 operations should not produce a 10,000-line message. */
const MAX_REPORTED_PROBLEMS = 5;

export interface TrustedDocumentList {
  readonly format: 'apollo' | 'relay';
  /** Operations (distinct ids) in the list. */
  readonly size: number;
  /**
   * The text listed under a client-sent id: a manifest id, `sha256:<hex>` (GraphQL over HTTP's
   * prefixed form) or the sha256 of a listed text (what APQ clients send).
   */
  lookup(id: string): string | undefined;
  /** Is this the sha256 (hex) of a listed text? Apollo Server's `queryHash` is exactly that. */
  hasTextHash(sha256Hex: string): boolean;
  /** Is this document, printed canonically, a listed one (whitespace, commas and comments aside)? */
  hasDocument(document: DocumentNode): boolean;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Canonical hash of a parsed document: `print` drops whitespace, commas and comments. */
function documentHash(document: DocumentNode): string {
  return sha256Hex(print(document));
}

/**
 * Parses a manifest (either format, told apart by the `format` key).
 * @throws TrustedDocumentsManifestError naming what is wrong: not JSON, unknown format or
 * version, an entry without id or text, a text that does not parse, one id with two texts.
 */
export function parseTrustedDocuments(text: string): TrustedDocumentList {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TrustedDocumentsManifestError(['not JSON']);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new TrustedDocumentsManifestError(['expected a JSON object: Apollo\'s persisted query list or Relay\'s { "id": "text" }']);
  }
  const record = json as Record<string, unknown>;
  const problems: string[] = [];
  const entries: [string, string][] = [];
  let format: TrustedDocumentList['format'];
  if ('format' in record) {
    format = 'apollo';
    if (record['format'] !== APOLLO_MANIFEST_FORMAT) problems.push(`format must be "${APOLLO_MANIFEST_FORMAT}"`);
    if (record['version'] !== 1) problems.push('version must be 1');
    const operations = record['operations'];
    if (!Array.isArray(operations)) problems.push('operations must be an array');
    else {
      operations.forEach((operation: unknown, i) => {
        const o = (operation ?? {}) as Record<string, unknown>;
        if (typeof o['id'] !== 'string' || o['id'] === '') problems.push(`operations[${i}].id must be a non-empty string`);
        else if (typeof o['body'] !== 'string' || o['body'] === '') problems.push(`operations[${i}] (${o['id']}): body must be a non-empty string`);
        else entries.push([o['id'], o['body']]);
      });
    }
  } else {
    format = 'relay';
    for (const [id, body] of Object.entries(record)) {
      if (typeof body !== 'string' || body === '' || id === '') problems.push(`${JSON.stringify(id.slice(0, 64))}: expected a non-empty id mapped to the document text`);
      else entries.push([id, body]);
    }
  }

  const byId = new Map<string, string>();
  const byTextHash = new Map<string, string>();
  const documentHashes = new Set<string>();
  for (const [id, body] of entries) {
    const known = byId.get(id);
    if (known !== undefined) {
      if (known !== body) problems.push(`${id}: listed twice with different texts`);
      continue;
    }
    let document: DocumentNode;
    try {
      document = parse(body, { noLocation: true });
    } catch (err) {
      problems.push(`${id}: does not parse (${(err as Error).message.split('\n')[0]})`);
      continue;
    }
    byId.set(id, body);
    byTextHash.set(sha256Hex(body), body);
    documentHashes.add(documentHash(document));
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_REPORTED_PROBLEMS);
    if (problems.length > shown.length) shown.push(`and ${problems.length - shown.length} more`);
    throw new TrustedDocumentsManifestError(shown);
  }

  // Documents are parsed by Apollo Server once per text and reused; their canonical hash is too.
  const printed = new WeakMap<DocumentNode, string>();
  return {
    format,
    size: byId.size,
    lookup(id) {
      const direct = byId.get(id) ?? byTextHash.get(id);
      if (direct !== undefined || !id.startsWith('sha256:')) return direct;
      const hex = id.slice('sha256:'.length);
      return byId.get(hex) ?? byTextHash.get(hex);
    },
    hasTextHash: (hash) => byTextHash.has(hash),
    hasDocument(document) {
      let hash = printed.get(document);
      if (hash === undefined) printed.set(document, (hash = documentHash(document)));
      return documentHashes.has(hash);
    },
  };
}
