import { BREAK, Kind, visit, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { Principal } from '../auth/principal.ts';

/**
 * What counts as introspection, who may run it, and how far it may go. Pure: the plugin and
 * the hardening step both read these rules.
 */

/**
 * Introspection queries are deep by nature (the standard one measures depth 15, cost ~16,000);
 * they are allowed only to callers with introspection access, and held to this depth instead
 * of the cost limit.
 */
export const INTROSPECTION_MAX_DEPTH = 20;

/**
 * Answers per document object: Apollo Server hands every request with the same query text the
 * same parsed document, so the walk (1.5 % of a request's CPU when profiled) runs once per text.
 */
const introspects = new WeakMap<DocumentNode, boolean>();

/** True when the document selects `__schema` or `__type` anywhere (fragments included). Pure. */
export function selectsSchemaIntrospection(document: DocumentNode): boolean {
  let found = introspects.get(document);
  if (found === undefined) {
    found = walkForIntrospection(document);
    introspects.set(document, found);
  }
  return found;
}

function walkForIntrospection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** True when `principal` may introspect under `scope`. Pure. */
export function mayIntrospect(principal: Principal, scope: string | undefined): boolean {
  return scope !== undefined && principal.kind === 'user' && principal.scopes.includes(scope);
}

/** True for a query whose every root field is a meta field (`__schema`, `__type`, `__typename`). */
export function isIntrospectionOnly(op: OperationDefinitionNode | undefined): boolean {
  if (!op || op.operation !== 'query') return false;
  return op.selectionSet.selections.every((s) => s.kind === Kind.FIELD && s.name.value.startsWith('__'));
}
