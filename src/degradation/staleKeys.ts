import { createHash } from 'node:crypto';
import type { DocumentNode } from 'graphql';

/** Short stable id of a fetch document: the same on every instance (Redis store) and restart. */
const documentIds = new WeakMap<DocumentNode, string>();

/**
 * What a stale value answered: the field group, the exact fetch document and its variables
 * (other than the entity representations, which key each entity). A value stored for
 * `reviews(first: 5)` must never answer `reviews(first: 3)`, nor one selected with fewer fields
 * answer a fetch that needs more.
 */
export function staleScope(key: string, document: DocumentNode, query: string, variables: Record<string, any> | undefined): string {
  let id = documentIds.get(document);
  if (id === undefined) {
    id = createHash('sha1').update(query).digest('base64url').slice(0, 16);
    documentIds.set(document, id);
  }
  let rest = '';
  if (variables) {
    const { representations: _representations, ...others } = variables;
    for (const _name in others) {
      rest = JSON.stringify(others);
      break;
    }
  }
  return `${key}|${id}|${rest}`;
}

/** The key of one entity's stale value within a scope. */
export function staleKey(scope: string, representation: unknown): string {
  return `${scope}|${JSON.stringify(representation)}`;
}
