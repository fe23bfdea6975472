/**
 * Just enough PromQL to check monitoring-as-code without promtool: brackets balance, every
 * function is a real PromQL function, and the metric names an expression reads, so a test can
 * require each to exist in a running gateway's /metrics.
 */

export const PROMQL_FUNCTIONS = new Set([
  'abs', 'absent', 'absent_over_time', 'avg', 'avg_over_time', 'bottomk', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min',
  'count', 'count_over_time', 'count_values', 'delta', 'deriv', 'floor', 'group', 'histogram_quantile', 'idelta', 'increase',
  'irate', 'label_replace', 'last_over_time', 'max', 'max_over_time', 'min', 'min_over_time', 'present_over_time', 'quantile',
  'quantile_over_time', 'rate', 'resets', 'round', 'scalar', 'sort', 'sort_desc', 'stddev', 'sum', 'sum_over_time', 'time',
  'timestamp', 'topk', 'vector',
]);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/** Metric names read by `expr`. Throws on unbalanced brackets or an unknown function. */
export function metricNamesIn(expr: string): Set<string> {
  checkBalanced(expr);
  let e = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ') // strings (label values, label_replace args)
    .replace(/\{[^{}]*\}/g, ' ') // label matchers
    .replace(/\[[^[\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)/g, ' '); // label lists
  e = e.replace(/\$\{?\w+\}?/g, ' '); // Grafana variables ($__rate_interval, $subgraph)
  const names = new Set<string>();
  const ident = /(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*/g;
  for (const m of e.matchAll(ident)) {
    const word = m[0];
    const after = e.slice(m.index + word.length);
    if (KEYWORDS.has(word.toLowerCase())) continue; // `unless (…)` is an operator, not a call
    if (/^\s*\(/.test(after)) {
      if (!PROMQL_FUNCTIONS.has(word)) throw new Error(`unknown PromQL function ${word} in ${expr}`);
      continue;
    }
    names.add(word);
  }
  return names;
}

function checkBalanced(expr: string): void {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '[' || c === '{') stack.push(c);
    else if (c in pairs && stack.pop() !== pairs[c]) throw new Error(`unbalanced ${c} at ${i} in ${expr}`);
  }
  if (quote || stack.length) throw new Error(`unbalanced brackets or quotes in ${expr}`);
}
