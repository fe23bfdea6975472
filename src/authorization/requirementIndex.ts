import {
  getNamedType,
  isAbstractType,
  isInterfaceType,
  isObjectType,
  type ConstDirectiveNode,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import { allOf, makeRequirement, type Dnf, type Requirement } from './requirements.ts';
import {
  argumentsOf,
  findDirectives,
  supergraphDirectivesOf,
  type SupergraphDirectives,
  type SupergraphDirectivesSource,
} from '../supergraph/directives.ts';
import type { OperationAnalysis } from './types.ts';

/**
 * Everything authorization needs from one supergraph, computed once per load: the effective
 * requirement of every `Type.field` and the concrete types behind every composite type. Per
 * request, a lookup is two `Map.get`s.
 */
export interface AuthorizationIndex {
  /** The API schema the index was built for (the one operations are validated against). */
  readonly schema: GraphQLSchema;
  /**
   * The effective requirement of selecting `fieldName` on `typeName`, or `undefined` when the
   * field is public. Already includes the parent type's, the return type's and (for interface
   * fields) every implementation's requirements.
   */
  fieldRequirement(typeName: string, fieldName: string): Requirement | undefined;
  /** Concrete object types an object of `typeName` can be (itself for an object type). */
  possibleTypes(typeName: string): readonly string[];
  /** Number of fields with a requirement; for the status page and tests. */
  readonly protectedFieldCount: number;
  /** @internal Per-document analyses; keyed weakly so documents evicted upstream are freed. */
  readonly analyses: WeakMap<DocumentNode, Map<string, OperationAnalysis>>;
}

function dnfArgument(directive: ConstDirectiveNode, argument: string, where: string): Dnf {
  const value = argumentsOf(directive)[argument];
  const valid =
    Array.isArray(value) &&
    value.every((group) => Array.isArray(group) && group.every((member) => typeof member === 'string'));
  if (!valid) {
    // A malformed requirement must not be read as "no requirement": refuse the supergraph.
    throw new Error(`@${directive.name.value}(${argument}:) on ${where} is not a list of lists of strings`);
  }
  return value as Dnf;
}

function readRequirement(
  directives: readonly ConstDirectiveNode[] | undefined,
  names: { authenticated: string; requiresScopes: string; policy: string },
  where: string,
): Requirement | undefined {
  if (directives === undefined || directives.length === 0) return undefined;
  return makeRequirement({
    authenticated: findDirectives(directives, names.authenticated).length > 0,
    scopes: findDirectives(directives, names.requiresScopes).map((d) => dnfArgument(d, 'scopes', where)),
    policies: findDirectives(directives, names.policy).map((d) => dnfArgument(d, 'policies', where)),
  });
}

/**
 * Builds the authorization index of a supergraph.
 *
 * Semantics (the same as Apollo Router's, and conservative where they differ):
 * - a directive on a field guards that field;
 * - a directive on a type guards every field returning that type and every field of that type
 *   (the latter matters when the type is reached through a union or interface);
 * - an interface field requires what each implementation's field requires, because one
 *   selection on the interface reads every implementation (composition already propagates
 *   this; we do not rely on it).
 *
 * @param apiSchema the API schema operations are validated against (`gateway.schema`).
 * @param supergraph the composed supergraph's directives (read once per load by
 *   `deriveSupergraphViews`), or its SDL, which still carries them.
 * @throws Error when a requirement directive has malformed arguments.
 */
export function buildAuthorizationIndex(apiSchema: GraphQLSchema, supergraph: SupergraphDirectivesSource): AuthorizationIndex {
  const directives: SupergraphDirectives = supergraphDirectivesOf(supergraph);
  const names = {
    authenticated: directives.nameOf({ spec: 'authenticated', directive: 'authenticated' }),
    requiresScopes: directives.nameOf({ spec: 'requiresScopes', directive: 'requiresScopes' }),
    policy: directives.nameOf({ spec: 'policy', directive: 'policy' }),
  };

  // Intern equal requirements so per-request evaluation runs once per distinct requirement.
  const interned = new Map<string, Requirement>();
  const intern = (requirement: Requirement | undefined) => {
    if (requirement === undefined) return undefined;
    const existing = interned.get(requirement.key);
    if (existing !== undefined) return existing;
    interned.set(requirement.key, requirement);
    return requirement;
  };

  const typeRequirement = (typeName: string) =>
    readRequirement(directives.types.get(typeName)?.type, names, typeName);
  const ownFieldRequirement = (typeName: string, fieldName: string) =>
    readRequirement(directives.types.get(typeName)?.fields.get(fieldName), names, `${typeName}.${fieldName}`);

  const byType = new Map<string, Map<string, Requirement>>();
  const possible = new Map<string, readonly string[]>();
  const typeMap = apiSchema.getTypeMap();
  const set = (typeName: string, fieldName: string, requirement: Requirement | undefined) => {
    if (requirement === undefined) return;
    let fields = byType.get(typeName);
    if (fields === undefined) byType.set(typeName, (fields = new Map()));
    fields.set(fieldName, requirement);
  };

  // Objects first: interface fields are derived from their implementations.
  for (const type of Object.values(typeMap)) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type)) {
      possible.set(type.name, Object.freeze([type.name]));
      const onType = typeRequirement(type.name);
      for (const field of Object.values(type.getFields())) {
        set(
          type.name,
          field.name,
          intern(allOf([ownFieldRequirement(type.name, field.name), onType, typeRequirement(getNamedType(field.type).name)])),
        );
      }
    } else if (isAbstractType(type)) {
      possible.set(type.name, Object.freeze(apiSchema.getPossibleTypes(type).map((t) => t.name).sort()));
    }
  }
  for (const type of Object.values(typeMap)) {
    if (type.name.startsWith('__') || !isInterfaceType(type)) continue;
    const onType = typeRequirement(type.name);
    const implementations = apiSchema.getPossibleTypes(type);
    for (const field of Object.values(type.getFields())) {
      set(
        type.name,
        field.name,
        intern(
          allOf([
            ownFieldRequirement(type.name, field.name),
            onType,
            typeRequirement(getNamedType(field.type).name),
            ...implementations.map((implementation) => byType.get(implementation.name)?.get(field.name)),
          ]),
        ),
      );
    }
  }

  let protectedFieldCount = 0;
  for (const fields of byType.values()) protectedFieldCount += fields.size;
  const none: readonly string[] = Object.freeze([]);

  return {
    schema: apiSchema,
    fieldRequirement: (typeName, fieldName) => byType.get(typeName)?.get(fieldName),
    possibleTypes: (typeName) => possible.get(typeName) ?? none,
    protectedFieldCount,
    analyses: new WeakMap(),
  };
}
