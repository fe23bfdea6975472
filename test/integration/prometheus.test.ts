import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PROMTOOL_BIN, startPrometheus, templateRules, type RunningPrometheus } from '../../devkit/prometheus.ts';
import { until } from '../../devkit/wait.ts';
import { PRODUCT_PAGE, startStack, type Stack } from '../helpers/portico.ts';

/**
 * Alerts proven in a real Prometheus (Debian's `prometheus` package):
 * - `promtool check rules` and `promtool test rules` with deploy/prometheus/alerts.test.yml,
 *   which must test every alert firing;
 * - a real Prometheus scraping a real gateway's ops listener: a subgraph outage takes the
 *   error-rate alert pending → firing, the breaker and probe alerts fire, and all resolve after
 *   recovery; the Grafana dashboard's queries return series from the same Prometheus.
 */

const run = promisify(execFile);
const ALERTS = 'deploy/prometheus/alerts.yml';
const ALERT_TESTS = 'deploy/prometheus/alerts.test.yml';
const DASHBOARD = 'deploy/grafana/dashboards/portico.json';

const alertNames = () =>
  (parseYaml(readFileSync(ALERTS, 'utf8')) as { groups: { rules: { alert?: string }[] }[] }).groups.flatMap((g) => g.rules.map((r) => r.alert).filter((a): a is string => !!a));

describe('promtool', () => {
  it('check rules: every rule is valid', async () => {
    const { stdout } = await run(PROMTOOL_BIN, ['check', 'rules', ALERTS]);
    expect(stdout).toMatch(new RegExp(`SUCCESS: ${alertNames().length} rules found`));
  });

  it('test rules: every alert in alerts.yml has a unit test that sees it quiet and firing, and they pass', async () => {
    const doc = parseYaml(readFileSync(ALERT_TESTS, 'utf8')) as { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const cases = doc.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const name of alertNames()) {
      const own = cases.filter((c) => c.alertname === name);
      expect(own.some((c) => c.exp_alerts.length > 0), `${name} has a firing case`).toBe(true);
      expect(own.some((c) => c.exp_alerts.length === 0), `${name} has a quiet case`).toBe(true);
    }
    const { stdout } = await run(PROMTOOL_BIN, ['test', 'rules', ALERT_TESTS], { cwd: process.cwd() });
    expect(stdout).toMatch(/SUCCESS/);
  });

  it("every alert's runbook section names it as an alert that sends a person there", () => {
    const doc = parseYaml(readFileSync(ALERTS, 'utf8')) as { groups: { rules: { alert?: string; annotations?: { runbook_url?: string } }[] }[] };
    const runbook = readFileSync('docs/runbook.md', 'utf8');
    for (const rule of doc.groups.flatMap((g) => g.rules).filter((r) => r.alert)) {
      const anchor = rule.annotations?.runbook_url?.split('#')[1];
      expect(anchor, rule.alert).toBeDefined();
      const start = runbook.indexOf(`<a id="${anchor}"></a>`);
      expect(start, `${rule.alert}: no section #${anchor}`).toBeGreaterThan(0);
      const section = runbook.slice(start, runbook.indexOf('\n## ', runbook.indexOf('\n## ', start) + 1));
      expect(section, `${rule.alert} in #${anchor}`).toMatch(new RegExp(`\\*\\*Alerts that send you here:\\*\\*.*\\[\`${rule.alert}\`\\]\\(\\.\\./deploy/prometheus/alerts\\.yml\\)`));
    }
  });

  it('templating for the live test only shortens durations', () => {
    const text = 'for: 5m\nexpr: rate(x[5m]) > 0 and increase(y[10m]) > 0\n    for: 1h\n';
    expect(templateRules(text, { forS: 3, rangeS: 10 })).toBe('for: 3s\nexpr: rate(x[10s]) > 0 and increase(y[10s]) > 0\n    for: 3s\n');
  });
});

describe('a real Prometheus scraping a real gateway through a subgraph outage', () => {
  let s: Stack;
  let prom: RunningPrometheus;
  let traffic: Promise<void> | undefined;
  let sending = false;

  beforeAll(async () => {
    s = await startStack({
      PORTICO_SUBGRAPH_TIMEOUT_MS: '300',
      PORTICO_BREAKER_RESET_MS: '1000',
      PORTICO_BREAKER_VOLUME_THRESHOLD: '5',
      PORTICO_PROBES_ENABLED: 'true',
      PORTICO_PROBE_INTERVAL_MS: '500',
      PORTICO_RATE_LIMITS: 'anonymous=1000000/1m',
    });
    const target = new URL(s.gw.opsUrl).host;
    prom = await startPrometheus({ targets: [target], timing: { forS: 3, rangeS: 10 } });
    // Steady client traffic, a few requests a second, for the whole test.
    sending = true;
    traffic = (async () => {
      let i = 0;
      while (sending) {
        await s.gql(PRODUCT_PAGE, { first: 1 + (i++ % 5) }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
  }, 60_000);
  afterAll(async () => {
    sending = false;
    await traffic;
    await prom?.stop();
    await s?.stop();
  });

  const pricingErrorAlert = async () => (await prom.alerts()).find((a) => a.labels.alertname === 'PorticoSubgraphErrorRate' && a.labels.subgraph === 'pricing');

  it('PorticoSubgraphErrorRate goes pending then firing on a pricing outage, the breaker and probe alerts fire, and all resolve after recovery', async () => {
    await until('prometheus scraping the gateway', async () => (await prom.query('up{job="portico"} == 1')).length === 1 && (await prom.query('portico_subgraph_requests_total')).length > 0, { timeoutMs: 20_000, intervalMs: 200 });
    expect(await pricingErrorAlert()).toBeUndefined();

    s.mocks.mocks.pricing.faults.set({ mode: 'refuse' });
    const seen: string[] = [];
    await until(
      'error-rate alert firing',
      async () => {
        const a = await pricingErrorAlert();
        if (a && seen.at(-1) !== a.state) seen.push(a.state);
        return a?.state === 'firing';
      },
      { timeoutMs: 40_000, intervalMs: 200 },
    );
    // Pending for the templated `for:` (3 s) before firing: both states were observed, in order.
    expect(seen).toEqual(['pending', 'firing']);
    const firing = (await pricingErrorAlert())!;
    expect(firing.labels.severity).toBe('page');
    expect(firing.annotations.runbook_url).toBe('docs/runbook.md#which-subgraph');
    await until('breaker and probe alerts firing', async () => {
      const alerts = await prom.alerts();
      const breaker = alerts.find((a) => a.labels.alertname === 'PorticoBreakerOpen' && a.labels.subgraph === 'pricing' && a.state === 'firing');
      const probe = alerts.find((a) => a.labels.alertname === 'PorticoProbeFailing' && a.labels.probe === 'product-page' && a.state === 'firing');
      return breaker && probe;
    }, { timeoutMs: 40_000, intervalMs: 200 });

    s.mocks.mocks.pricing.faults.reset();
    await until(
      'every outage alert resolved',
      async () => {
        const alerts = await prom.alerts();
        return !alerts.some((a) => ['PorticoSubgraphErrorRate', 'PorticoBreakerOpen', 'PorticoProbeFailing'].includes(a.labels.alertname!));
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(await prom.query('portico_probe_success{probe="product-page"} == 1')).toHaveLength(1);
  }, 150_000);

  it("the Grafana dashboard's queries return series from this Prometheus", async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThan(10);
    const empty: string[] = [];
    for (const { title, expr } of exprs) {
      const q = expr.replaceAll('$__rate_interval', '30s').replaceAll('$instance', '.*').replaceAll('$subgraph', 'pricing');
      const result = await prom.query(q);
      if (result.length === 0) empty.push(`${title}: ${expr}`);
    }
    expect(empty).toEqual([]);
  }, 30_000);
});
