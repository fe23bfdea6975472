/**
 * Portico's query-plan executor: walks a cached plan (Sequence / Parallel / Flatten / Fetch /
 * Condition), calls each subgraph through its data source exactly as @apollo/gateway does
 * (same `process()` options, so deadlines, breakers, dedup, degradation, stale values and
 * everything else that lives there work unchanged), merges the answers into the response, and
 * shapes it with the operation's compiled shaper. What a plan needs besides its nodes (the
 * operation model, the shaper, each fetch's representation builder and rewrites) is compiled the
 * first time the plan runs and kept beside it: a plan is cached per operation, so is this.
 * Plans with @defer or subscriptions are not Portico's: they report `unsupported`, and the caller
 * hands them to @apollo/gateway's executor.
 */
import { operationFromDocument, type Operation } from '@apollo/federation-internals';
import { evaluateCondition, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import {
  executeSync,
  GraphQLError,
  Kind,
  OperationTypeNode,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
} from 'graphql';
import { compileShape, type CompiledShape } from './shape.ts';
import {
  compileRequires,
  compileRewrites,
  deepMerge,
  downstreamServiceError,
  errorPathGenerator,
  flattenResultsAtPath,
  getOwn,
  hasOwn,
  objectOfTypeTester,
  plainObject,
  type RepresentationFn,
  type ResponsePath,
  type RewriteFn,
} from './fetch.ts';

/** What the executor needs of a subgraph's data source (Portico's `SubgraphDataSource`). */
export interface PlanDataSource {
  process(options: any): Promise<GatewayGraphQLResponse>;
}

/** @apollo/gateway's `OperationContext`: the operation picked from the document, its fragments, the schema. */
export interface OperationContext {
  readonly schema: GraphQLSchema;
  readonly operation: OperationDefinitionNode;
  readonly fragments: Record<string, FragmentDefinitionNode>;
}

/** The gateway's `GraphQLDataSourceRequestKind.INCOMING_OPERATION` (not exported from its root). */
const INCOMING_OPERATION = 'incoming operation';

interface CompiledFetch {
  readonly requires: RepresentationFn | undefined;
  readonly inputRewrites: RewriteFn | undefined;
  readonly outputRewrites: RewriteFn | undefined;
}

/** Everything compiled once for a plan. */
export interface CompiledPlan {
  readonly supported: boolean;
  readonly operation: Operation;
  readonly shape: CompiledShape;
  readonly fetches: Map<FetchNode, CompiledFetch>;
  /** The operation's introspection answers' document, per introspection field. */
  readonly introspection: Map<SelectionNode, DocumentNode>;
}

/** One request's execution state (executeQueryPlan.js's `ExecutionContext`). */
interface Execution {
  readonly compiled: CompiledPlan;
  readonly serviceMap: Record<string, PlanDataSource>;
  readonly requestContext: GatewayGraphQLRequestContext;
  readonly errors: GraphQLError[];
}

interface Cursor {
  readonly path: ResponsePath;
  readonly data: any;
  readonly fullResult: any;
}

/** True when every node of the plan is one Portico executes (no @defer, no subscription). */
function isSupported(plan: QueryPlan): boolean {
  const node = plan.node;
  if (!node) return true;
  if (node.kind === 'Subscription') return false;
  const walk = (n: PlanNode): boolean => {
    switch (n.kind) {
      case 'Fetch':
        return !n.hasDefers;
      case 'Sequence':
      case 'Parallel':
        return n.nodes.every(walk);
      case 'Flatten':
        return walk(n.node);
      case 'Condition':
        return (!n.ifClause || walk(n.ifClause)) && (!n.elseClause || walk(n.elseClause));
      default:
        return false;
    }
  };
  return walk(node);
}

/**
 * Compiles a plan for its operation. Throws what federation-internals throws for an operation it
 * cannot model (a GraphQLError the caller answers with, as @apollo/gateway does).
 */
export function compilePlan(plan: QueryPlan, operationContext: OperationContext, apiSchema: unknown, supergraphSchema: GraphQLSchema): CompiledPlan {
  const operation = operationFromDocument(
    apiSchema as Parameters<typeof operationFromDocument>[0],
    { kind: Kind.DOCUMENT, definitions: [operationContext.operation, ...Object.values(operationContext.fragments)] },
    { validate: false },
  );
  const supported = isSupported(plan);
  const fetches = new Map<FetchNode, CompiledFetch>();
  if (supported && plan.node && plan.node.kind !== 'Subscription') {
    const isOfType = objectOfTypeTester(supergraphSchema);
    const visitNode = (n: PlanNode): void => {
      switch (n.kind) {
        case 'Fetch':
          fetches.set(n, {
            requires: n.requires ? compileRequires(n.requires, isOfType) : undefined,
            inputRewrites: compileRewrites(n.inputRewrites, isOfType),
            outputRewrites: compileRewrites(n.outputRewrites, isOfType),
          });
          break;
        case 'Sequence':
        case 'Parallel':
          n.nodes.forEach(visitNode);
          break;
        case 'Flatten':
          visitNode(n.node);
          break;
        case 'Condition':
          if (n.ifClause) visitNode(n.ifClause);
          if (n.elseClause) visitNode(n.elseClause);
          break;
        default:
          break;
      }
    };
    visitNode(plan.node);
  }
  return { supported, operation, shape: compileShape(operation), fetches, introspection: new Map() };
}

/** Runs a compiled plan: executeQueryPlan.js's `executeQueryPlan`, without its tracing spans. */
export async function executePlan(
  plan: QueryPlan,
  compiled: CompiledPlan,
  serviceMap: Record<string, PlanDataSource>,
  requestContext: GatewayGraphQLRequestContext,
  operationContext: OperationContext,
): Promise<GatewayExecutionResult> {
  const errors: GraphQLError[] = [];
  const execution: Execution = { compiled, serviceMap, requestContext, errors };
  const unfilteredData = plainObject();
  if (plan.node && plan.node.kind !== 'Subscription') await executeNode(execution, plan.node, { path: [], data: unfilteredData, fullResult: unfilteredData });
  const variables = requestContext.request.variables;
  let data: unknown;
  try {
    let completionErrors: GraphQLError[];
    ({ data, errors: completionErrors } = compiled.shape.shape(unfilteredData, variables, (node) => introspect(compiled, operationContext, node, variables)));
    if (errors.length === 0 && completionErrors.length > 0) return { extensions: { valueCompletion: completionErrors }, data: data as Record<string, unknown> };
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [error] };
    if (error instanceof Error) return { errors: [new GraphQLError(error.message, { originalError: error })] };
    requestContext.logger?.error(`Unexpected error during query plan execution: ${String(error)}`);
    return { errors: [new GraphQLError('Unexpected error during query plan execution')] };
  }
  return errors.length === 0 ? { data: data as Record<string, unknown> } : { errors, data: data as Record<string, unknown> };
}

async function executeNode(execution: Execution, node: PlanNode, cursor: Cursor | undefined): Promise<void> {
  if (!cursor) return;
  switch (node.kind) {
    case 'Sequence':
      for (const child of node.nodes) await executeNode(execution, child, cursor);
      return;
    case 'Parallel':
      await Promise.all(node.nodes.map((child) => executeNode(execution, child, cursor)));
      return;
    case 'Flatten':
      return executeNode(execution, node.node, moveIntoCursor(cursor, node.path));
    case 'Fetch':
      try {
        await executeFetch(execution, node, cursor);
      } catch (error) {
        execution.errors.push(error as GraphQLError);
      }
      return;
    case 'Condition': {
      const condition = evaluateCondition(node, execution.compiled.operation.variableDefinitions, execution.requestContext.request.variables);
      const branch = condition ? node.ifClause : node.elseClause;
      if (branch) await executeNode(execution, branch, cursor);
      return;
    }
    default:
      // Unreachable: such plans are not `supported` and never get here.
      throw new Error(`Portico's executor cannot run a ${node.kind} node`);
  }
}

function moveIntoCursor(cursor: Cursor, pathInCursor: readonly (string | number)[]): Cursor | undefined {
  const data = flattenResultsAtPath(cursor.data, pathInCursor);
  return data ? { path: cursor.path.concat(pathInCursor as (string | number)[]), data, fullResult: cursor.fullResult } : undefined;
}

async function executeFetch(execution: Execution, fetch: FetchNode, cursor: Cursor): Promise<void> {
  const service = execution.serviceMap[fetch.serviceName];
  if (!service) throw new Error(`Couldn't find service with name "${fetch.serviceName}"`);
  const entities: any[] = Array.isArray(cursor.data) ? cursor.data.filter((e) => e !== null && e !== undefined) : [cursor.data];
  if (entities.length < 1) return;
  const compiled = execution.compiled.fetches.get(fetch)!;
  const provided = execution.requestContext.request.variables;
  const variables: Record<string, unknown> = plainObject();
  if (fetch.variableUsages && provided) {
    for (const name of fetch.variableUsages) if (hasOwn(provided, name) && typeof provided[name] !== 'undefined') variables[name] = provided[name];
  }

  const send = async (vars: Record<string, unknown>): Promise<any> => {
    const response = await service.process({
      kind: INCOMING_OPERATION,
      request: { query: fetch.operation, variables: vars, operationName: fetch.operationName, http: undefined },
      incomingRequestContext: execution.requestContext,
      context: execution.requestContext.context,
      document: fetch.operationDocumentNode,
      pathInIncomingRequest: cursor.path,
    });
    if (response.errors) {
      const pathOf = errorPathGenerator(fetch.requires !== undefined, cursor.path, cursor.fullResult);
      for (const error of response.errors) execution.errors.push(downstreamServiceError(error, fetch.serviceName, pathOf));
    }
    return response.data;
  };

  if (!compiled.requires) {
    const received = await send(variables);
    if (received) compiled.outputRewrites?.(received);
    for (const entity of entities) deepMerge(entity, received);
    return;
  }
  const representations: any[] = [];
  const representationToEntity: number[] = [];
  for (let index = 0; index < entities.length; index++) {
    const representation = compiled.requires(entities[index]);
    if (representation && representation['__typename']) {
      compiled.inputRewrites?.(representation);
      representations.push(representation);
      representationToEntity.push(index);
    }
  }
  if (representations.length < 1) return;
  if ('representations' in variables) throw new Error('Variables cannot contain key "representations"');
  // Added to the fetch's own variables object (made above, used by nothing else): a copy
  // through `{ ...variables, representations }` takes V8's slow path on Node 20 (src/runtime/objects.ts).
  variables['representations'] = representations;
  const received = await send(variables);
  if (!received) return;
  if (!(received._entities && Array.isArray(received._entities))) throw new Error('Expected "data._entities" in response to be an array');
  const receivedEntities: any[] = received._entities;
  if (receivedEntities.length !== representations.length) throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
  // Bounded by `entities`, not `representations`, as @apollo/gateway's loop is: past the
  // representations both sides are undefined and merging them does nothing.
  for (let i = 0; i < entities.length; i++) {
    const receivedEntity = receivedEntities[i];
    const existing = entities[representationToEntity[i]!];
    if (receivedEntity && !receivedEntity['__typename']) receivedEntity['__typename'] = existing['__typename'];
    if (receivedEntity !== undefined && receivedEntity !== null) compiled.outputRewrites?.(receivedEntity);
    deepMerge(existing, receivedEntity);
  }
}

/** executeQueryPlan.js's `executeIntrospection`, its document built once per field of the plan. */
function introspect(compiled: CompiledPlan, operationContext: OperationContext, node: SelectionNode, variables: Record<string, unknown> | undefined): unknown {
  let document = compiled.introspection.get(node);
  if (!document) {
    document = introspectionDocument(node, operationContext.operation.variableDefinitions);
    compiled.introspection.set(node, document);
  }
  const { data, errors } = executeSync({ schema: operationContext.schema, document, rootValue: {}, variableValues: variables });
  if ((errors && errors.length > 0) || !data) throw new Error(`Introspection query for ${JSON.stringify(node)} should not have failed but got ${JSON.stringify(errors)}`);
  const field = node as FieldNode;
  return getOwn(data, field.alias?.value ?? field.name.value);
}

function introspectionDocument(selection: SelectionNode, variableDefinitions: OperationDefinitionNode['variableDefinitions']): DocumentNode {
  const used = new Set<string>();
  visit(selection, { Variable: ({ name }) => void used.add(name.value) });
  const definitions = variableDefinitions?.filter((d) => used.has(d.variable.name.value));
  return {
    kind: Kind.DOCUMENT,
    definitions: [{ kind: Kind.OPERATION_DEFINITION, operation: OperationTypeNode.QUERY, variableDefinitions: definitions, selectionSet: { kind: Kind.SELECTION_SET, selections: [selection] } }],
  };
}
