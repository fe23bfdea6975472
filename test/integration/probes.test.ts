import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../devkit/wait.ts';
import { startStack, type Stack } from '../helpers/portico.ts';
import { sampleValue, scrape } from '../helpers/promText.ts';

/**
 * Synthetic probes through the whole pipeline: a real gateway probes itself over loopback
 * (schemas/probes.json, the demo's product page, is the default), against real mock subgraphs.
 */


describe('synthetic probes', () => {
  let s: Stack;
  beforeAll(async () => {
    // A quota of 2 requests a minute: the probes run far more often and must never be refused.
    s = await startStack({ PORTICO_PROBES_ENABLED: 'true', PORTICO_PROBE_INTERVAL_MS: '150', PORTICO_RATE_LIMITS: 'anonymous=2/1m', PORTICO_SUBGRAPH_TIMEOUT_MS: '300' });
  });
  afterAll(() => s?.stop());
  afterEach(() => {
    for (const m of Object.values(s.mocks.mocks)) m.faults.reset();
  });

  it('the default probe (the demo product page) runs on its own, is exempt from the rate limit, and is marked in the access log', async () => {
    // Spend the quota as a client.
    for (let i = 0; i < 3; i++) await s.gql('{ products(first: 1) { id } }');
    expect((await s.gql('{ products(first: 1) { id } }')).status).toBe(429);
    const probes = s.gw.portico.parts.probes!;
    await until('three probe runs', () => (probes.history()['product-page']?.length ?? 0) >= 3, 15_000);
    const runs = probes.history()['product-page']!;
    for (const r of runs) {
      expect(r.result).toBe('ok');
      expect(r.status).toBe(200);
      expect(r.latencyMs).toBeGreaterThan(0);
    }
    const lines = s.gw.logs.find((l) => l.event === 'access' && l.probe === 'product-page');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines[0]!.status).toBe(200);
    expect(lines[0]!.operationName).toBe('ProbeProductPage');
    expect(lines[0]!.subgraphs).toEqual(expect.arrayContaining(['product', 'pricing', 'inventory', 'review']));
    // Client requests are never marked, whatever they send in the probe header.
    await s.gql('{ products(first: 1) { id } }', undefined, { 'x-portico-probe': 'guess product-page' });
    const clientLines = s.gw.logs.find((l) => l.event === 'access' && l.probe === undefined && l.path === '/graphql');
    expect(clientLines.at(-1)!.status).toBe(429);

    const m = await scrape(s.gw.opsUrl);
    expect(sampleValue(m, 'portico_probe_success', { probe: 'product-page' })).toBe(1);
    expect(sampleValue(m, 'portico_probe_runs_total', { probe: 'product-page', result: 'ok' })).toBeGreaterThanOrEqual(3);
  });

  it('a subgraph outage: the probe reports degraded with the subgraph and the missing fields; metric 0, a warning line', async () => {
    s.mocks.mocks.pricing.faults.set({ mode: 'refuse' });
    const probes = s.gw.portico.parts.probes!;
    await until('a degraded probe run', () => probes.history()['product-page']?.[0]?.result === 'degraded', 15_000);
    const r = probes.history()['product-page']![0]!;
    expect(r.degradedServices).toEqual(['pricing']);
    expect(r.degradedFields).toBeGreaterThan(0);
    expect(r.status).toBe(200);
    const m = await scrape(s.gw.opsUrl);
    expect(sampleValue(m, 'portico_probe_success', { probe: 'product-page' })).toBe(0);
    expect(sampleValue(m, 'portico_probe_degraded_fields', { probe: 'product-page' })).toBeGreaterThan(0);
    expect(s.gw.logs.find((l) => l.event === 'probe' && l.result === 'degraded').length).toBeGreaterThan(0);
    // Recovery shows as soon as the next run.
    s.mocks.mocks.pricing.faults.reset();
    await until('an ok probe run', () => probes.history()['product-page']?.[0]?.result === 'ok', 15_000);
  });
});

describe('probes authenticate with the configured probe token', () => {
  const secret = 'probe-test-secret-0123456789abcdef0123456789';
  let s: Stack | undefined;
  afterEach(async () => {
    await s?.stop();
    s = undefined;
  });
  const env = { PORTICO_AUTH_MODE: 'required', PORTICO_JWT_HS_SECRET: secret, PORTICO_JWT_ISSUER: 'probe-test', PORTICO_JWT_AUDIENCE: 'portico', PORTICO_PROBES_ENABLED: 'true', PORTICO_PROBE_INTERVAL_MS: '60000' };

  it('with the token: ok; without it, the probe fails with the gateway\'s 401 (the outage it must show)', async () => {
    const token = await new SignJWT({ sub: 'probe' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('probe-test')
      .setAudience('portico')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    s = await startStack({ ...env, PORTICO_PROBE_TOKEN: token });
    const [ok] = await s.gw.portico.parts.probes!.runOnce();
    expect(ok).toMatchObject({ probe: 'product-page', result: 'ok', status: 200 });
    await s.stop();
    s = await startStack(env);
    const [refused] = await s.gw.portico.parts.probes!.runOnce();
    expect(refused).toMatchObject({ probe: 'product-page', result: 'failed', status: 401 });
    expect(refused!.errorCodes).toEqual(['UNAUTHENTICATED']);
  });
});
