/**
 * A strict parser for the Prometheus text exposition format (0.0.4), enough to prove that what
 * `/metrics` serves is well-formed: every sample belongs to a family declared with HELP and TYPE,
 * label sets are well-formed and values are numbers. Throws on the first malformed line, naming it.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const HELP_RE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_RE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL_RE = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

/** Suffixes a sample of each type may add to its family name. */
const SUFFIXES: Record<MetricType, string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line.slice(0, 120))}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const help = HELP_RE.exec(line);
      if (help) {
        helps.set(help[1]!, help[2]!);
        return;
      }
      const type = TYPE_RE.exec(line);
      if (type) {
        if (families.has(type[1]!)) throw new Error(`duplicate TYPE for ${type[1]} at ${where}`);
        families.set(type[1]!, { name: type[1]!, help: helps.get(type[1]!) ?? '', type: type[2] as MetricType, samples: [] });
        return;
      }
      if (line.startsWith('# HELP') || line.startsWith('# TYPE')) throw new Error(`malformed comment at ${where}`);
      return; // other comments are allowed
    }
    const m = SAMPLE_RE.exec(line);
    if (!m) throw new Error(`malformed sample at ${where}`);
    const [, name, labelText, rawValue] = m;
    // Go's ParseFloat, which Prometheus uses, reads Inf and NaN in any case (prom-client writes "Nan").
    const special = rawValue!.toLowerCase();
    const value = special === '+inf' || special === 'inf' ? Infinity : special === '-inf' ? -Infinity : special === 'nan' ? NaN : Number(rawValue);
    if (Number.isNaN(value) && special !== 'nan') throw new Error(`bad value at ${where}`);
    const labels = parseLabels(labelText ?? '', where);
    const family = familyOf(families, name!);
    if (!family) throw new Error(`sample without a TYPE-declared family at ${where}`);
    if (family.type === 'histogram' && name!.endsWith('_bucket') && labels.le === undefined) throw new Error(`bucket without le at ${where}`);
    family.samples.push({ name: name!, labels, value });
  });
  for (const f of families.values()) {
    if (!f.help) throw new Error(`family ${f.name} has no HELP`);
  }
  return families;
}

function familyOf(families: Map<string, Family>, sampleName: string): Family | undefined {
  for (const [name, f] of families) {
    for (const suffix of SUFFIXES[f.type]) if (sampleName === name + suffix) return f;
  }
  return undefined;
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  if (text.trim() === '') return labels;
  LABEL_RE.lastIndex = 0;
  while (LABEL_RE.lastIndex < text.length) {
    const start = LABEL_RE.lastIndex;
    const m = LABEL_RE.exec(text);
    if (!m || m.index !== start) throw new Error(`malformed labels at ${where}`);
    if (m[1]! in labels) throw new Error(`duplicate label ${m[1]} at ${where}`);
    labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    if (m[3] === '') break;
  }
  return labels;
}

/** Value of the one sample of `name` whose labels include `match`; undefined when absent. */
export function sampleValue(families: Map<string, Family>, name: string, match: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}

/** Every metric name that can appear in PromQL for these families (histogram suffixes included). */
export function queryableNames(families: Map<string, Family>): Set<string> {
  const out = new Set<string>();
  for (const f of families.values()) for (const suffix of SUFFIXES[f.type]) out.add(f.name + suffix);
  return out;
}

export async function scrape(opsUrl: string): Promise<Map<string, Family>> {
  const res = await fetch(`${opsUrl}/metrics`);
  if (!res.ok) throw new Error(`/metrics answered HTTP ${res.status}`);
  return parsePrometheusText(await res.text());
}
