import { copyFile, mkdir, mkdtemp, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryPlanner } from '@apollo/query-planner';
import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareForGateway } from '../../src/supergraph/prepare.ts';
import { PRODUCT_PAGE, startStack, type Stack } from '../helpers/portico.ts';
import { until } from '../../devkit/wait.ts';

describe('product page through the gateway', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ PORTICO_SUBGRAPH_TIMEOUT_MS: '1500' });
  });
  afterAll(() => s.stop());

  it('reads from all four subgraphs in one request', async () => {
    const r = await s.gql(PRODUCT_PAGE, { first: 20 });
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.products).toHaveLength(20);
    for (const p of r.body.data.products) {
      expect(p.name).toEqual(expect.any(String)); // product
      expect(p.price.currency).toBe('USD'); // pricing
      expect(typeof p.inventory.inStock).toBe('boolean'); // inventory
      expect(Array.isArray(p.reviews)).toBe(true); // review
      expect(p.reviews.length).toBeGreaterThan(0);
    }
  });

  it('batches entity lookups: 20 products cost one backend lookup per subgraph', async () => {
    for (const m of Object.values(s.mocks.mocks)) m.resetStats();
    const r = await s.gql(PRODUCT_PAGE, { first: 20 });
    expect(r.body.errors).toBeUndefined();
    const lookups = Object.fromEntries(Object.values(s.mocks.mocks).map((m) => [m.name, m.stats().backendLookups]));
    expect(lookups).toEqual({ product: 1, pricing: 1, inventory: 1, review: 1 });
  });

  it('fetches pricing, inventory and review in parallel (all three in flight at once)', async () => {
    const { pricing, inventory, review } = s.mocks.mocks;
    for (const m of [pricing, inventory, review]) m.faults.set({ latencyMs: 400 });
    try {
      const pending = s.gql(PRODUCT_PAGE, { first: 5 });
      // Sequential fetches would never have more than one of them open at a time.
      await until('pricing, inventory and review to be in flight together', () =>
        pricing.stats().inFlight > 0 && inventory.stats().inFlight > 0 && review.stats().inFlight > 0,
      );
      const r = await pending;
      expect(r.body.errors).toBeUndefined();
    } finally {
      for (const m of [pricing, inventory, review]) m.faults.reset();
    }
  });

  it('the query plan puts the three entity fetches under one Parallel node', async () => {
    const sdl = prepareForGateway(await readFile('schemas/supergraph.graphql', 'utf8'));
    const supergraph = Supergraph.build(sdl);
    const planner = new QueryPlanner(supergraph);
    const op = operationFromDocument(supergraph.apiSchema(), parse(PRODUCT_PAGE));
    const plan = planner.buildQueryPlan(op) as any;
    expect(plan.node.kind).toBe('Sequence');
    const [first, second] = plan.node.nodes;
    expect(first.kind).toBe('Fetch');
    expect(first.serviceName).toBe('product');
    expect(second.kind).toBe('Parallel');
    const services = second.nodes.map((n: any) => n.node.serviceName).sort();
    expect(services).toEqual(['inventory', 'pricing', 'review']);
  });
});

describe('supergraph hot reload', () => {
  let s: Stack;
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portico-reload-'));
    file = join(dir, 'supergraph.graphql');
    await copyFile('schemas/supergraph.graphql', file);
    s = await startStack({ PORTICO_SUPERGRAPH_PATH: file, PORTICO_LOG_LEVEL: 'info' });
  });
  afterAll(() => s.stop());

  it('swaps in a valid new supergraph and rejects a bad one, keeping the last good', async () => {
    const original = await readFile(file, 'utf8');
    const before = s.gw.portico.parts.supergraph.state().hash;
    // A valid change: drop Product.averageRating from the supergraph.
    const changed = original.replace(/\n\s*("""[^"]*"""\s*)?averageRating: Float[^\n]*/, '');
    expect(changed).not.toBe(original);
    await writeFile(file, changed);
    await until('the new supergraph to be served', () => s.gw.portico.parts.supergraph.state().hash !== before);
    const gone = await s.gql('{ products(first: 1) { averageRating } }');
    expect(gone.status).toBe(400);
    expect(JSON.stringify(gone.body.errors)).toContain('averageRating');

    // A broken file: rejected with one log line, the previous schema keeps answering.
    const good = s.gw.portico.parts.supergraph.state().hash;
    await writeFile(file, 'this is not a supergraph {');
    await until('the bad supergraph to be rejected', () => s.gw.portico.parts.supergraph.state().lastRejection);
    expect(s.gw.portico.parts.supergraph.state().hash).toBe(good);
    const rejected = s.gw.logs.find((l) => l.event === 'supergraph_reload' && l.outcome === 'failure');
    expect(rejected).toHaveLength(1);
    expect(String(rejected[0]!.reason)).toMatch(/syntax|parse|unexpected/i);
    const still = await s.gql('{ products(first: 2) { id name price { amount } } }');
    expect(still.body.errors).toBeUndefined();
    expect(still.body.data.products).toHaveLength(2);
  });
});

describe('supergraph from a Kubernetes ConfigMap volume', () => {
  let s: Stack;
  let dir: string;
  beforeAll(async () => {
    // The kubelet's layout: file -> ..data/file, ..data -> ..<timestamp>; an update writes a new
    // timestamped folder and atomically renames a new ..data symlink over the old one.
    dir = await mkdtemp(join(tmpdir(), 'portico-configmap-'));
    await mkdir(join(dir, '..v1'));
    await copyFile('schemas/supergraph.graphql', join(dir, '..v1', 'supergraph.graphql'));
    await symlink('..v1', join(dir, '..data'));
    await symlink('..data/supergraph.graphql', join(dir, 'supergraph.graphql'));
    s = await startStack({ PORTICO_SUPERGRAPH_PATH: join(dir, 'supergraph.graphql') });
  });
  afterAll(() => s.stop());

  it('picks up an updated ConfigMap (the ..data symlink swap) without a restart', async () => {
    const before = s.gw.portico.parts.supergraph.state().hash;
    const original = await readFile('schemas/supergraph.graphql', 'utf8');
    await mkdir(join(dir, '..v2'));
    await writeFile(join(dir, '..v2', 'supergraph.graphql'), original.replace(/\n\s*("""[^"]*"""\s*)?averageRating: Float[^\n]*/, ''));
    await symlink('..v2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await until('the ConfigMap update to be served', () => s.gw.portico.parts.supergraph.state().hash !== before);
    const gone = await s.gql('{ products(first: 1) { averageRating } }');
    expect(gone.status).toBe(400);
  });
});
