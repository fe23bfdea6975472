import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startStack, type Stack } from '../helpers/portico.ts';
import { metricNamesIn } from '../helpers/promql.ts';
import { queryableNames, scrape } from '../helpers/promText.ts';

// Monitoring as code, checked without promtool or Grafana: the files parse, reference each other
// consistently (job names, mounts, datasource uid, runbook anchors), and every metric they read
// is served by a running gateway's /metrics.

const ALERTS = 'deploy/prometheus/alerts.yml';
const PROMETHEUS = 'deploy/prometheus/prometheus.yml';
const DASHBOARD = 'deploy/grafana/dashboards/portico.json';
const DATASOURCES = 'deploy/grafana/provisioning/datasources/prometheus.yml';
const DASHBOARD_PROVIDERS = 'deploy/grafana/provisioning/dashboards/portico.yml';
const RUNBOOK = 'docs/runbook.md';
/** Series Prometheus makes itself for every target. */
const PROMETHEUS_SERIES = new Set(['up']);

const yamlFile = (path: string) => parseYaml(readFileSync(path, 'utf8')) as any;

let served: Set<string>;
let s: Stack;
beforeAll(async () => {
  s = await startStack({ PORTICO_RATE_LIMITS: 'anonymous=1000000/1m' });
  await s.gql('{ products(first: 1) { id price { amount } } }');
  served = queryableNames(await scrape(s.gw.opsUrl));
});
afterAll(() => s?.stop());

function expectServed(expr: string, where: string) {
  const names = metricNamesIn(expr);
  expect(names.size, `${where}: reads no metric`).toBeGreaterThan(0);
  for (const name of names) expect(served.has(name) || PROMETHEUS_SERIES.has(name), `${where}: ${name} is not on /metrics`).toBe(true);
}

/** GitHub-style anchors of a markdown file: explicit `<a id>`s and headings. */
function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/<a id="([^"]+)"/g)) out.add(m[1]!);
  for (const m of markdown.matchAll(/^#+\s+(.+)$/gm)) out.add(m[1]!.toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-'));
  return out;
}

describe('the checker', () => {
  it('finds metric names past functions, label matchers, ranges, label lists and Grafana variables', () => {
    expect([...metricNamesIn('histogram_quantile(0.99, sum by (le, subgraph) (rate(a_bucket{x="y",z=~"$v"}[$__rate_interval]))) > 0.5 unless on (k) b == 1')]).toEqual(['a_bucket', 'b']);
    expect(() => metricNamesIn('rat(a[5m])')).toThrow(/unknown PromQL function rat/);
    expect(() => metricNamesIn('sum(rate(a[5m])')).toThrow(/unbalanced/);
  });
});

describe('Prometheus', () => {
  it('alert rules parse, are complete, link the runbook, and read only served metrics', () => {
    const doc = yamlFile(ALERTS);
    const anchors = anchorsOf(readFileSync(RUNBOOK, 'utf8'));
    const names = new Set<string>();
    const rules = (doc.groups as any[]).flatMap((g) => {
      expect(g.name).toMatch(/^[a-z0-9-]+$/);
      return g.rules as any[];
    });
    expect(rules.length).toBeGreaterThanOrEqual(12);
    for (const r of rules) {
      expect(r.alert, JSON.stringify(r)).toMatch(/^Portico[A-Z][A-Za-z0-9]+$/);
      expect(names.has(r.alert), `duplicate ${r.alert}`).toBe(false);
      names.add(r.alert);
      expect(Object.keys(r).every((k) => ['alert', 'expr', 'for', 'labels', 'annotations'].includes(k)), r.alert).toBe(true);
      if (r.for !== undefined) expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
      expect(['page', 'ticket']).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toEqual(expect.any(String));
      const anchor = /^docs\/runbook\.md#([\w-]+)$/.exec(r.annotations?.runbook_url ?? '');
      expect(anchor, `${r.alert} runbook_url`).not.toBeNull();
      expect(anchors.has(anchor![1]!), `${r.alert}: runbook has no #${anchor![1]}`).toBe(true);
      expectServed(r.expr, r.alert);
    }
    // What the issue asks alerts for.
    for (const required of [
      'PorticoGateway5xxRate',
      'PorticoSubgraphErrorRate',
      'PorticoBreakerOpen',
      'PorticoLatencyP99High',
      'PorticoRateLimitRejectionSpike',
      'PorticoLimiterFallback',
      'PorticoRedisUnreachable',
      'PorticoInstanceNotReady',
      'PorticoTargetDown',
    ]) {
      expect(names, required).toContain(required);
    }
  });

  it('prometheus.yml scrapes the ops listeners and loads the alert rules', () => {
    const cfg = yamlFile(PROMETHEUS);
    expect(cfg.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    const job = (cfg.scrape_configs as any[]).find((j) => j.job_name === 'portico');
    expect(job.metrics_path).toBe('/metrics');
    expect(job.dns_sd_configs[0]).toMatchObject({ names: ['gateway'], type: 'A', port: 8088 });
    // The alerts' up{job=...} matches the job.
    expect(readFileSync(ALERTS, 'utf8')).toContain('up{job="portico"}');
  });
});

describe('Grafana', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
  const datasourceUid = yamlFile(DATASOURCES).datasources[0].uid;

  it('the dashboard is valid: unique ids, panels on the 24-column grid, the provisioned datasource', () => {
    expect(dashboard).toMatchObject({ uid: 'portico', title: 'Portico', schemaVersion: expect.any(Number) });
    const ids = (dashboard.panels as any[]).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      expect(p.gridPos.h).toBeGreaterThan(0);
      if (p.type === 'row') continue;
      expect(['timeseries', 'state-timeline', 'stat']).toContain(p.type);
      expect(p.datasource).toEqual({ type: 'prometheus', uid: datasourceUid });
      expect(p.targets.length, p.title).toBeGreaterThan(0);
    }
  });

  it('has a row per subgraph (repeated over $subgraph) with rate, errors, p99 and breaker state, and rows for gateway, limiter, Redis', () => {
    const panels = dashboard.panels as any[];
    const rows = panels.filter((p) => p.type === 'row');
    expect(rows.map((r) => r.title)).toEqual(expect.arrayContaining(['Gateway', 'Rate limiter', 'Redis']));
    const subgraphRow = rows.find((r) => r.repeat === 'subgraph');
    expect(subgraphRow).toBeDefined();
    const variable = (dashboard.templating.list as any[]).find((v) => v.name === 'subgraph');
    expectServed(variable.query.query.replace(/^label_values\(([^,]+),.*$/, '$1'), 'the $subgraph variable');
    const start = panels.indexOf(subgraphRow);
    const end = panels.findIndex((p, i) => i > start && p.type === 'row');
    const inRow = panels.slice(start + 1, end);
    const exprs = inRow.flatMap((p) => p.targets.map((t: any) => t.expr as string));
    for (const e of exprs) expect(e).toContain('subgraph="$subgraph"');
    const all = exprs.join('\n');
    expect(all).toMatch(/rate\(portico_subgraph_requests_total/);
    expect(all).toMatch(/outcome!="success"/);
    expect(all).toMatch(/histogram_quantile\(0\.99, sum by \(le\) \(rate\(portico_subgraph_request_duration_seconds_bucket/);
    expect(all).toMatch(/portico_breaker_state/);
  });

  it('every query reads only metrics a running gateway serves', () => {
    for (const p of dashboard.panels as any[]) {
      for (const t of p.targets ?? []) expectServed(t.expr, `${p.title} (${t.refId})`);
    }
  });

  it('provisioning points at the dashboards folder and the compose Prometheus', () => {
    const provider = yamlFile(DASHBOARD_PROVIDERS).providers[0];
    expect(provider).toMatchObject({ type: 'file', options: { path: '/var/lib/grafana/dashboards' } });
    expect(yamlFile(DATASOURCES).datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
  });
});

describe('docker-compose.yml', () => {
  it('runs Prometheus and Grafana provisioned with these files', () => {
    const cfg = parseYaml(execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { encoding: 'utf8', timeout: 30_000 })) as any;
    const mounts = (svc: string): Record<string, string> =>
      Object.fromEntries(
        (cfg.services[svc].volumes as any[])
          .map((v): string[] => (typeof v === 'string' ? v.split(':') : [v.source, v.target]))
          .map(([src, dst]) => [dst!, resolve(src!)]),
      );
    const prom = mounts('prometheus');
    expect(prom['/etc/prometheus/prometheus.yml']).toBe(resolve(PROMETHEUS));
    expect(prom['/etc/prometheus/alerts.yml']).toBe(resolve(ALERTS));
    const grafana = mounts('grafana');
    expect(grafana['/etc/grafana/provisioning']).toBe(resolve('deploy/grafana/provisioning'));
    expect(grafana['/var/lib/grafana/dashboards']).toBe(resolve('deploy/grafana/dashboards'));
    for (const path of [...Object.values(prom), ...Object.values(grafana)]) expect(existsSync(path), path).toBe(true);
    // The ops port Prometheus scrapes is the one the gateway listens on, on every interface of its container.
    expect(cfg.services.gateway.environment).toMatchObject({ PORTICO_OPS_PORT: '8088', PORTICO_OPS_HOST: '0.0.0.0' });
  });
});
