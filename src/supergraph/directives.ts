import {
  Kind,
  parse,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type InputValueDefinitionNode,
} from 'graphql';

/**
 * Reads the composed directives (`@authenticated`, `@requiresScopes`, `@policy`, `@cost`,
 * `@listSize`) out of a supergraph SDL.
 *
 * Why parse the SDL ourselves: `@apollo/gateway` serves the API schema, which has every
 * federation directive stripped; only the supergraph keeps them (composition emits them as
 * first-class directives since federation 2.5 / 2.9, linked with `@link(url: …/<spec>/v0.1)`).
 *
 * Why resolve names through `@link`: a supergraph may rename a feature (`as:`) or leave a
 * directive unimported (`@cost__listSize`); reading by hard-coded name would silently miss it.
 *
 * Read once per supergraph load (`deriveSupergraphViews`) and handed to `authorization/` and
 * `hardening/`. A pure, lower-level module: both may import it, it imports neither.
 */

/** A feature directive, identified by its spec (`cost`) and its name inside that spec (`listSize`). */
export interface SpecDirective {
  readonly spec: string;
  readonly directive: string;
}

/** Directive definitions as found on one type and its fields, keyed by resolved spec directive. */
export interface TypeDirectives {
  /** Directives on the type itself (`type Supplier @authenticated`). */
  readonly type: readonly ConstDirectiveNode[];
  /** Directives per field name. */
  readonly fields: ReadonlyMap<string, readonly ConstDirectiveNode[]>;
  /** Directives per `field.argument`. */
  readonly arguments: ReadonlyMap<string, readonly ConstDirectiveNode[]>;
}

export interface SupergraphDirectives {
  /** The name this supergraph uses for a spec directive, e.g. `{cost, listSize}` → `listSize`. */
  nameOf(directive: SpecDirective): string;
  /** Every composite/leaf type that carries directives on itself, its fields or arguments. */
  readonly types: ReadonlyMap<string, TypeDirectives>;
}

const SPEC_URL_PREFIX = 'https://specs.apollo.dev/';

interface LinkedFeature {
  /** Name of the feature in this schema: the spec name unless renamed with `as:`. */
  readonly prefix: string;
  /** Imported directive name → local name (without `@`). */
  readonly imports: ReadonlyMap<string, string>;
}

/** Parses `@link` on the schema definition/extension into per-spec naming rules. */
function readLinks(document: DocumentNode): Map<string, LinkedFeature> {
  const links = new Map<string, LinkedFeature>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) {
      continue;
    }
    for (const directive of definition.directives ?? []) {
      if (directive.name.value !== 'link') continue;
      const args = argumentsOf(directive);
      const url = args['url'];
      if (typeof url !== 'string' || !url.startsWith(SPEC_URL_PREFIX)) continue;
      // https://specs.apollo.dev/<spec>/v<major>.<minor>
      const spec = url.slice(SPEC_URL_PREFIX.length).split('/')[0];
      if (spec === undefined || spec === '') continue;
      const prefix = typeof args['as'] === 'string' ? args['as'] : spec;
      const imports = new Map<string, string>();
      const imported = Array.isArray(args['import']) ? args['import'] : [];
      for (const entry of imported) {
        if (typeof entry === 'string' && entry.startsWith('@')) {
          imports.set(entry.slice(1), entry.slice(1));
        } else if (isRecord(entry) && typeof entry['name'] === 'string' && entry['name'].startsWith('@')) {
          const as = typeof entry['as'] === 'string' ? entry['as'] : entry['name'];
          imports.set(entry['name'].slice(1), as.replace(/^@/, ''));
        }
      }
      links.set(spec, { prefix, imports });
    }
  }
  return links;
}

/** Reads every `@…` application on types, fields and field arguments of a supergraph SDL. */
export function readSupergraphDirectives(document: DocumentNode): SupergraphDirectives {
  const links = readLinks(document);
  const types = new Map<string, { type: ConstDirectiveNode[]; fields: Map<string, ConstDirectiveNode[]>; arguments: Map<string, ConstDirectiveNode[]> }>();

  const entryFor = (typeName: string) => {
    let entry = types.get(typeName);
    if (entry === undefined) {
      entry = { type: [], fields: new Map(), arguments: new Map() };
      types.set(typeName, entry);
    }
    return entry;
  };
  const addField = (typeName: string, field: FieldDefinitionNode | InputValueDefinitionNode) => {
    if (field.directives !== undefined && field.directives.length > 0) {
      const entry = entryFor(typeName);
      entry.fields.set(field.name.value, [...(entry.fields.get(field.name.value) ?? []), ...field.directives]);
    }
    if (field.kind === Kind.FIELD_DEFINITION) {
      for (const argument of field.arguments ?? []) {
        if (argument.directives === undefined || argument.directives.length === 0) continue;
        const key = `${field.name.value}.${argument.name.value}`;
        const entry = entryFor(typeName);
        entry.arguments.set(key, [...(entry.arguments.get(key) ?? []), ...argument.directives]);
      }
    }
  };

  for (const definition of document.definitions) {
    switch (definition.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION:
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
      case Kind.INPUT_OBJECT_TYPE_EXTENSION:
        if (definition.directives !== undefined && definition.directives.length > 0) {
          entryFor(definition.name.value).type.push(...definition.directives);
        }
        for (const field of definition.fields ?? []) addField(definition.name.value, field);
        break;
      case Kind.SCALAR_TYPE_DEFINITION:
      case Kind.SCALAR_TYPE_EXTENSION:
      case Kind.ENUM_TYPE_DEFINITION:
      case Kind.ENUM_TYPE_EXTENSION:
      case Kind.UNION_TYPE_DEFINITION:
      case Kind.UNION_TYPE_EXTENSION:
        if (definition.directives !== undefined && definition.directives.length > 0) {
          entryFor(definition.name.value).type.push(...definition.directives);
        }
        break;
      default:
        break;
    }
  }

  return {
    types,
    nameOf({ spec, directive }) {
      const link = links.get(spec);
      // Not linked at all: fall back to the unprefixed default, which is what a hand-written
      // SDL (or a test fixture without @link) would use.
      if (link === undefined) return directive;
      const imported = link.imports.get(directive);
      if (imported !== undefined) return imported;
      // The spec's eponymous directive (`@cost` of the cost spec) takes the feature's name.
      if (directive === spec) return link.prefix;
      return `${link.prefix}__${directive}`;
    },
  };
}

/**
 * What a per-supergraph builder reads directives from: already read (once per load, by
 * `deriveSupergraphViews`), or the SDL, read on the spot (tests and tools building one view).
 */
export type SupergraphDirectivesSource = SupergraphDirectives | string;

/** The directives of `source`, parsing it only when it is SDL text. */
export function supergraphDirectivesOf(source: SupergraphDirectivesSource): SupergraphDirectives {
  return typeof source === 'string' ? readSupergraphDirectives(parse(source, { noLocation: true })) : source;
}

/** The first application of `name` among `directives`, if any. */
export function findDirective(
  directives: readonly ConstDirectiveNode[] | undefined,
  name: string,
): ConstDirectiveNode | undefined {
  return directives?.find((directive) => directive.name.value === name);
}

/** All applications of `name` (composition may repeat a directive after merging). */
export function findDirectives(
  directives: readonly ConstDirectiveNode[] | undefined,
  name: string,
): ConstDirectiveNode[] {
  return directives?.filter((directive) => directive.name.value === name) ?? [];
}

/** A directive's arguments as plain JS values (literals only: SDL has no variables). */
export function argumentsOf(directive: ConstDirectiveNode): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const argument of directive.arguments ?? []) {
    result[argument.name.value] = valueFromASTUntyped(argument.value);
  }
  return result;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
