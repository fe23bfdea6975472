import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { buildHealthReport } from '../../../src/health/report.ts';
import { createSubgraphStats } from '../../../src/health/subgraphStats.ts';
import { checkAdminToken } from '../../../src/ops/adminAuth.ts';
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from '../../../src/ops/statusPage.ts';

describe('admin token check', () => {
  it('no token configured refuses everything with ADMIN_DISABLED', () => {
    expect(checkAdminToken(undefined, 'Bearer anything')).toMatchObject({ ok: false, status: 403, code: 'ADMIN_DISABLED' });
  });
  it('missing or malformed header: 401; wrong token: 403; right token: ok', () => {
    expect(checkAdminToken('s3cret', undefined)).toMatchObject({ ok: false, status: 401, code: 'UNAUTHENTICATED' });
    expect(checkAdminToken('s3cret', 'Basic czNjcmV0')).toMatchObject({ ok: false, status: 401 });
    expect(checkAdminToken('s3cret', 'Bearer s3cre')).toMatchObject({ ok: false, status: 403, code: 'FORBIDDEN' });
    expect(checkAdminToken('s3cret', 'Bearer s3cret-and-more')).toMatchObject({ ok: false, status: 403 });
    expect(checkAdminToken('s3cret', 'Bearer s3cret')).toEqual({ ok: true });
    expect(checkAdminToken('s3cret', 'bearer s3cret')).toEqual({ ok: true });
  });
});

describe('health report', () => {
  it('lists every subgraph, worst breaker state first-class, no URLs', () => {
    const stats = createSubgraphStats();
    stats.observer.finished('pricing', 'pricing:Product', 'connection', 0.01, 'ECONNREFUSED 127.0.0.1:4002', 'connection refused');
    const window = { fires: 5, failures: 5, rejects: 0, successes: 0, recent: 0, slow: 0 };
    const report = buildHealthReport({
      instance: 'i-1',
      now: new Date('2026-01-01T00:00:00Z'),
      lifecycle: 'ready',
      readiness: { ready: true, body: { status: 'degraded', reasons: ['breaker pricing:Product is open'] } },
      supergraph: { hash: 'abc', loadedAt: new Date('2026-01-01T00:00:00Z'), lastRejection: { at: new Date('2026-01-01T00:00:00Z'), reason: 'bad' }, reloads: { success: 1, failure: 1 } },
      limiter: undefined,
      subgraphNames: ['product', 'pricing'],
      breakers: [
        { key: 'pricing:Query.x', subgraph: 'pricing', state: 'closed', window, slowCallMs: 1000, openedAt: undefined, openReason: undefined },
        { key: 'pricing:Product', subgraph: 'pricing', state: 'open', window, slowCallMs: 1000, openedAt: '2026-01-01T00:00:00.000Z', openReason: 'failures' },
      ],
      stats: (n) => stats.snapshot(n),
    });
    expect(report.subgraphs.map((s) => [s.name, s.state])).toEqual([
      ['pricing', 'open'],
      ['product', 'closed'],
    ]);
    expect(report.subgraphs[0]!.breakers.map((b) => b.key)).toEqual(['pricing:Product', 'pricing:Query.x']);
    expect(report.subgraphs[0]!.lastError).toMatchObject({ reason: 'connection refused' });
    expect(report.gateway).toMatchObject({ status: 'degraded', limiter: null, supergraph: { hash: 'abc', lastRejection: { reason: 'bad' } } });
    expect(JSON.stringify(report)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
  });
});

describe('status page', () => {
  it('is self-contained: no external URL, inline script allowed by hash only', () => {
    expect(STATUS_PAGE_HTML).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(STATUS_PAGE_HTML).not.toMatch(/innerHTML/);
    expect(STATUS_PAGE_CSP).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(STATUS_PAGE_CSP).toMatch(/connect-src 'self'/);
  });

  it('its inline script compiles (a syntax error would leave the page blank in every browser)', () => {
    const scripts = [...STATUS_PAGE_HTML.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(scripts.length).toBe(1);
    // Compiles only: the script needs a DOM to run, which the Chromium test gives it.
    expect(() => new Script(scripts[0]!)).not.toThrow();
  });
});
