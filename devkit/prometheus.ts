/**
 * A real Prometheus (Debian's `prometheus` package) for tests: a temporary config scraping the
 * given targets every second, the committed alert rules with their `for:` durations and range
 * windows shortened by templating (so pending → firing → resolved takes seconds, not minutes),
 * a throwaway TSDB, a free loopback port. `stop()` kills it and removes the temp folder.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from './paths.ts';
import { freePort } from './ports.ts';
import { spawnProcess, type ManagedProcess } from './processes.ts';
import type { Reaper } from './reaper.ts';
import { until } from './wait.ts';

export const PROMETHEUS_BIN = process.env.PORTICO_PROMETHEUS_BIN ?? 'prometheus';
export const PROMTOOL_BIN = process.env.PORTICO_PROMTOOL_BIN ?? 'promtool';
export const ALERT_RULES = resolve(PROJECT_ROOT, 'deploy/prometheus/alerts.yml');

export interface RuleTiming {
  /** Every `for:` becomes this, s. */
  readonly forS: number;
  /** Every range selector of 5 m or longer (`[5m]`, `[10m]`) becomes this, s. */
  readonly rangeS: number;
}

/**
 * The committed rules with shorter durations: `for: 5m` → `for: <forS>s`, `[5m]` → `[<rangeS>s]`.
 * Nothing else changes, so the expressions, labels and annotations tested are the real ones.
 */
export function templateRules(text: string, timing: RuleTiming): string {
  return text.replace(/^([ \t]*for:[ \t]*)\d+[smhd][ \t]*$/gm, `$1${timing.forS}s`).replace(/\[(\d+)([mh])\]/g, `[${timing.rangeS}s]`);
}

export interface PrometheusOptions {
  /** `host:port` of each gateway ops listener; scraped as job `portico`. */
  readonly targets: readonly string[];
  readonly timing: RuleTiming;
  /** Scrape and rule evaluation interval, s. Default 1. */
  readonly intervalS?: number;
  readonly reaper?: Reaper;
}

export interface RunningPrometheus {
  readonly url: string;
  readonly process: ManagedProcess;
  /** Instant query; the result vector. @throws on an error answer. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Active alerts (pending and firing). */
  alerts(): Promise<{ labels: Record<string, string>; state: 'pending' | 'firing'; annotations: Record<string, string> }[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-prometheus-'));
  const interval = `${options.intervalS ?? 1}s`;
  writeFileSync(join(dir, 'alerts.yml'), templateRules(readFileSync(ALERT_RULES, 'utf8'), options.timing));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  evaluation_interval: ${interval}`,
      'rule_files:',
      '  - alerts.yml',
      'scrape_configs:',
      '  - job_name: portico',
      '    scrape_timeout: 1s',
      '    static_configs:',
      `      - targets: [${options.targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawnProcess({
    name: 'prometheus',
    command: PROMETHEUS_BIN,
    args: [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Nothing beyond loopback, and nothing kept.
      '--storage.tsdb.retention.time=1h',
      '--web.console.templates=/dev/null',
      '--web.console.libraries=/dev/null',
    ],
    cwd: dir,
    reaper: options.reaper,
  });
  const stop = async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until('prometheus ready', async () => (await fetch(`${url}/-/ready`)).ok, { timeoutMs: 30_000, intervalMs: 100, abortIf: () => (proc.running() ? undefined : `prometheus exited: ${proc.output().slice(-1_000)}`) });
  } catch (err) {
    await stop();
    throw err;
  }
  async function api<T>(path: string): Promise<T> {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  }
  return {
    url,
    process: proc,
    query: async (expr) => (await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    alerts: async () => (await api<{ alerts: { labels: Record<string, string>; state: 'pending' | 'firing'; annotations: Record<string, string> }[] }>('/api/v1/alerts')).alerts,
    stop,
  };
}
