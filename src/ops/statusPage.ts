import { createHash } from 'node:crypto';

/**
 * `GET /status`: one self-contained page (inline CSS and JS, no CDN, no build step) that polls
 * `/health/subgraphs` and renders a row per subgraph and breaker key, coloured by state. Works
 * from a laptop through an SSH tunnel or `kubectl port-forward` with nothing else installed.
 * Text is set with `textContent` only, never parsed as HTML.
 */

/** How often the page refreshes, ms: fast enough to watch a breaker open, cheap for the instance. */
export const STATUS_REFRESH_MS = 2_000;

const SCRIPT = `
(() => {
  const $ = (id) => document.getElementById(id);
  const fmtMs = (v) => (v == null ? '–' : v < 10 ? v.toFixed(1) : String(Math.round(v)));
  const pct = (r) => (r * 100).toFixed(r > 0 && r < 0.01 ? 2 : 1) + ' %';
  const td = (text, cls) => {
    const el = document.createElement('td');
    el.textContent = text;
    if (cls) el.className = cls;
    return el;
  };
  function render(h) {
    $('instance').textContent = h.instance;
    $('status').textContent = h.gateway.status + (h.gateway.reasons.length ? ': ' + h.gateway.reasons.join('; ') : '');
    $('status').className = 'badge s-' + h.gateway.status;
    const sg = h.gateway.supergraph;
    $('supergraph').textContent = sg ? sg.hash + ' loaded ' + sg.loadedAt : 'not loaded';
    $('rejection').textContent = sg && sg.lastRejection ? sg.lastRejection.at + ': ' + sg.lastRejection.reason : 'none';
    // Control plane (issue 16): where the served version came from, its age, the canary, the last decision.
    const cp = h.gateway.controlPlane;
    if (cp && cp.serving) $('supergraph').textContent = cp.serving.hash + ' from ' + cp.serving.source + ' since ' + cp.serving.since + ' (' + cp.serving.ageS + ' s)';
    $('supergraph').className = cp && cp.serving && cp.serving.source.startsWith('cache:') ? 'warn' : '';
    const c = cp && cp.canary;
    $('canary').textContent = c ? c.hash + ' at ' + c.percent + ' %: ' + c.canary.requests + ' requests, ' + pct(c.canary.errorRate) + ' failed (stable ' + pct(c.stable.errorRate) + '); ' + c.verdict : 'none';
    const d = cp && cp.lastDecision;
    $('decision').textContent = d ? d.hash + ' ' + d.decision + ' ' + d.at + ' by ' + d.by + ': ' + d.reason : 'none';
    $('decision').className = d && d.decision === 'rolled-back' ? 'warn' : '';
    const lim = h.gateway.limiter;
    // The live count is what the local fallback divides each quota by.
    $('limiter').textContent = lim ? lim.mode + (lim.mode !== 'memory' && lim.liveInstances ? ' (fallback share: 1/' + lim.liveInstances + ' of each quota)' : '') : 'not configured';
    $('limiter').className = h.gateway.limiter && h.gateway.limiter.mode === 'local-fallback' ? 'warn' : '';
    // Entity cache: its levels and the share of each subgraph's lookups it answered.
    const cache = h.gateway.cache;
    $('cache').textContent = cache && cache.enabled ? cache.levels + (cache.redis === 'unavailable' ? ' (Redis unavailable: in-process only)' : '') + ' · hit ratio: ' + (h.subgraphs.map((s) => s.name + ' ' + (s.cacheHitRatio === null ? '–' : pct(s.cacheHitRatio))).join(' · ')) : 'off';
    $('cache').className = cache && cache.redis === 'unavailable' ? 'warn' : '';
    const rows = [];
    for (const s of h.subgraphs) {
      const keys = s.breakers.length ? s.breakers : [{ key: '(no calls yet)', state: 'closed', openedAt: null }];
      keys.forEach((b, i) => {
        const tr = document.createElement('tr');
        tr.dataset.subgraph = s.name;
        tr.dataset.key = b.key;
        tr.dataset.state = b.state;
        tr.appendChild(td(i === 0 ? s.name : '', 'name'));
        tr.appendChild(td(b.key));
        const state = td(b.state + (b.openedAt ? ' ' + b.openedAt.slice(11, 19) : ''), 'state st-' + b.state);
        if (b.openedAt) state.title = 'open since ' + b.openedAt;
        tr.appendChild(state);
        const w = s.windows['1m'];
        const w5 = s.windows['5m'];
        tr.appendChild(td(i === 0 ? w.requests + ' · ' + pct(w.errorRate) : '', i === 0 && w.errorRate >= 0.05 ? 'warn' : ''));
        tr.appendChild(td(i === 0 && w.latencyMs ? fmtMs(w.latencyMs.p50) + ' / ' + fmtMs(w.latencyMs.p95) + ' / ' + fmtMs(w.latencyMs.p99) : ''));
        tr.appendChild(td(i === 0 ? w5.requests + ' · ' + pct(w5.errorRate) : '', i === 0 && w5.errorRate >= 0.05 ? 'warn' : ''));
        tr.appendChild(td(i === 0 ? String(s.inFlight) : ''));
        tr.appendChild(td(i === 0 && s.lastError ? s.lastError.at.slice(11, 19) + ' ' + s.lastError.key + ': ' + s.lastError.reason : '', 'last'));
        rows.push(tr);
      });
    }
    $('rows').replaceChildren(...rows);
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    $('error').hidden = true;
  }
  async function refresh() {
    try {
      const res = await fetch('health/subgraphs', { cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      render(await res.json());
    } catch (err) {
      $('error').textContent = 'cannot load /health/subgraphs (' + err.message + '); showing the last answer';
      $('error').hidden = false;
    }
  }
  // The pictures (GET status/data): sparklines, breaker timelines, probes, extra sections.
  const NS = 'http://www.w3.org/2000/svg';
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  };
  const svg = (w, h, cls) => {
    const s = document.createElementNS(NS, 'svg');
    s.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    s.setAttribute('preserveAspectRatio', 'none');
    s.setAttribute('class', cls);
    return s;
  };
  function spark(series, title, value, d, w, h) {
    const box = el('div', 'spark s-' + series);
    box.dataset.series = series;
    box.appendChild(el('div', 'spark-label', title + ': ' + value));
    const s = svg(w, h, 'sparkline');
    const p = document.createElementNS(NS, 'path');
    p.setAttribute('d', d || '');
    p.dataset.series = series;
    s.appendChild(p);
    box.appendChild(s);
    return box;
  }
  const fmtRate = (v) => (v == null ? '–' : v < 10 ? v.toFixed(1) : String(Math.round(v)));
  function renderData(d) {
    const mins = Math.round(d.windowMs / 60000);
    $('window').textContent = mins + ' min, a point every ' + d.sampleMs / 1000 + ' s';
    const cards = d.subgraphs.map((g) => {
      const card = el('div', 'card');
      card.dataset.subgraph = g.name;
      card.appendChild(el('h3', null, g.name));
      const last = g.last || { rate: 0, errorRate: 0, p99: null };
      card.appendChild(spark('rate', 'calls/s', fmtRate(last.rate) + ' (max ' + fmtRate(g.max.rate) + ')', g.paths.rate, d.spark.width, d.spark.height));
      card.appendChild(spark('errorRate', 'errors', last.errorRate == null ? '–' : pct(last.errorRate), g.paths.errorRate, d.spark.width, d.spark.height));
      card.appendChild(spark('p99', 'p99 ms', fmtMs(last.p99) + ' (max ' + fmtMs(g.max.p99) + ')', g.paths.p99, d.spark.width, d.spark.height));
      if (last.errorRate >= 0.05) card.classList.add('hurting');
      return card;
    });
    if (!cards.length) cards.push(el('p', 'muted', 'no subgraph calls yet'));
    $('sparks').replaceChildren(...cards);
    const rows = d.breakers.map((b) => {
      const row = el('div', 'tl-row');
      row.dataset.key = b.key;
      row.dataset.state = b.state;
      row.appendChild(el('span', 'tl-key', b.key + ' · ' + b.state + (b.transitions ? ' · ' + b.transitions + ' changes' : '')));
      const s = svg(1000, 12, 'timeline');
      for (const seg of b.segments) {
        const r = document.createElementNS(NS, 'rect');
        r.setAttribute('x', String(seg.x0 * 1000));
        r.setAttribute('width', String(Math.max(1, (seg.x1 - seg.x0) * 1000)));
        r.setAttribute('y', '0');
        r.setAttribute('height', '12');
        r.setAttribute('class', 'tl-' + seg.state);
        r.dataset.state = seg.state;
        s.appendChild(r);
      }
      row.appendChild(s);
      return row;
    });
    if (!rows.length) rows.push(el('p', 'muted', 'no breakers yet'));
    $('timeline').replaceChildren(...rows);
    const probes = d.probes.map((p) => {
      const row = el('div', 'probe');
      row.dataset.probe = p.name;
      const l = p.last;
      row.dataset.result = l ? l.result : 'none';
      row.appendChild(el('span', 'probe-name', p.name));
      row.appendChild(el('span', 'badge r-' + (l ? l.result : 'none'), l ? l.result : 'not run yet'));
      if (l) {
        const extra = [l.latencyMs + ' ms', 'HTTP ' + l.status];
        if (l.degradedServices.length) extra.push('missing: ' + l.degradedServices.join(', ') + ' (' + l.degradedFields + ' fields)');
        if (l.result === 'failed' && l.errorCodes.length) extra.push(l.errorCodes.join(', '));
        extra.push(l.at.slice(11, 19));
        row.appendChild(el('span', 'probe-detail', extra.join(' · ')));
      }
      const s = svg(Math.max(1, p.recent.length) * 8, 10, 'strip');
      p.recent.forEach((r, i) => {
        const q = document.createElementNS(NS, 'rect');
        q.setAttribute('x', String(i * 8));
        q.setAttribute('width', '6');
        q.setAttribute('height', '10');
        q.setAttribute('class', 'r-' + r.result);
        s.appendChild(q);
      });
      row.appendChild(s);
      return row;
    });
    if (!probes.length) probes.push(el('p', 'muted', 'no probes configured'));
    $('probes').replaceChildren(...probes);
    $('served').textContent = d.supergraph ? d.supergraph.hash + ' since ' + d.supergraph.loadedAt : 'none';
    // Extra sections (canary, cache, ...): a title and rows of values, drawn the same way.
    $('sections').replaceChildren(...d.sections.map((x) => {
      const sec = el('section', 'extra');
      sec.dataset.section = x.id;
      sec.appendChild(el('h2', null, x.title));
      const dl = el('dl');
      for (const [k, v] of Object.entries(x.rows)) {
        dl.appendChild(el('dt', null, k));
        dl.appendChild(el('dd', null, v == null ? '–' : String(v)));
      }
      sec.appendChild(dl);
      return sec;
    }));
  }
  async function refreshData() {
    try {
      const res = await fetch('status/data', { cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      renderData(await res.json());
    } catch (err) {
      $('error').textContent = 'cannot load /status/data (' + err.message + '); showing the last answer';
      $('error').hidden = false;
    }
  }
  refresh();
  refreshData();
  setInterval(refresh, ${STATUS_REFRESH_MS});
  setInterval(refreshData, ${STATUS_REFRESH_MS});
})();
`;

const STYLE = `
body { font: 13px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2330; background: #f7f8fa; }
h1 { font-size: 1.3rem; margin: 0 0 .75rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0 0 1rem; }
dt { color: #5b6476; } dd { margin: 0; font-family: ui-monospace, monospace; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e3e6eb; white-space: nowrap; }
td.last { white-space: normal; }
th { background: #eef0f4; font-weight: 600; }
td.name { font-weight: 600; }
.state { font-weight: 600; }
.st-closed { color: #176d2c; } .st-forced-closed { color: #176d2c; background: #e6f4ea; }
.st-half-open { color: #7a5200; background: #fff4d6; }
.st-open, .st-forced-open { color: #fff; background: #c62828; }
.badge { padding: .1rem .4rem; border-radius: 3px; }
.s-ready { background: #e6f4ea; } .s-degraded { background: #fff4d6; } .s-draining, .s-starting, .s-stopped { background: #fde2e1; }
.warn { color: #b3261e; font-weight: 600; }
#error { background: #fde2e1; padding: .5rem; margin-bottom: 1rem; }
footer { color: #5b6476; margin-top: .75rem; }
h2 { font-size: 1.05rem; margin: 1.25rem 0 .5rem; }
h3 { font-size: .95rem; margin: 0 0 .35rem; }
.scroll { overflow-x: auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: .75rem; }
.card { background: #fff; border: 1px solid #e3e6eb; border-radius: 4px; padding: .5rem .6rem; }
.card.hurting { border-color: #c62828; box-shadow: inset 3px 0 0 #c62828; }
.spark { margin: .2rem 0 .4rem; }
.spark-label { color: #5b6476; font-size: 12px; }
svg.sparkline { width: 100%; height: 36px; display: block; background: #fafbfc; }
svg.sparkline path { fill: none; stroke: #1f5fbf; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.s-errorRate svg.sparkline path { stroke: #c62828; }
.s-p99 svg.sparkline path { stroke: #7a5200; }
.tl-row { margin: .25rem 0; }
.tl-key { font-family: ui-monospace, monospace; font-size: 12px; }
svg.timeline { width: 100%; height: 12px; display: block; }
.tl-closed, .tl-forced-closed { fill: #8fd19e; } .tl-half-open { fill: #f0c24b; } .tl-open, .tl-forced-open { fill: #c62828; }
.probe { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .25rem 0; }
.probe-name { font-weight: 600; } .probe-detail { color: #5b6476; }
.r-ok { background: #e6f4ea; fill: #2e7d32; } .r-degraded { background: #fff4d6; fill: #f0a400; } .r-failed { background: #fde2e1; fill: #c62828; } .r-none { background: #eef0f4; }
svg.strip { height: 10px; width: auto; }
.muted { color: #5b6476; }
@media (max-width: 600px) { body { margin: .6rem; } th, td { padding: .3rem .35rem; } }
`;

/** CSP hash of the inline script, so the page may run it and nothing else. */
const SCRIPT_HASH = createHash('sha256').update(SCRIPT).digest('base64');

/**
 * Strict: only this page's own script and style, and fetches to its own origin. Nothing can be
 * loaded from elsewhere even if a value rendered on the page were hostile.
 */
export const STATUS_PAGE_CSP = `default-src 'none'; script-src 'sha256-${SCRIPT_HASH}'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Portico status</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Portico status</h1>
<div id="error" hidden></div>
<dl>
  <dt>instance</dt><dd id="instance">…</dd>
  <dt>status</dt><dd><span id="status">loading…</span></dd>
  <dt>supergraph</dt><dd id="supergraph">…</dd>
  <dt>last rejected reload</dt><dd id="rejection">…</dd>
  <dt>canary</dt><dd id="canary">…</dd>
  <dt>last canary decision</dt><dd id="decision">…</dd>
  <dt>rate limiter</dt><dd id="limiter">…</dd>
  <dt>cache</dt><dd id="cache">…</dd>
</dl>
<div class="scroll"><table>
  <thead><tr><th>subgraph</th><th>breaker key</th><th>state</th><th>1 min: calls · errors</th><th>1 min: p50 / p95 / p99 ms</th><th>5 min: calls · errors</th><th>in flight</th><th>last error</th></tr></thead>
  <tbody id="rows"></tbody>
</table></div>
<h2>Subgraphs over the last <span id="window">15 min</span></h2>
<div id="sparks" class="cards"></div>
<h2>Breaker states</h2>
<div id="timeline"></div>
<h2>Probes</h2>
<div id="probes"></div>
<h2>Supergraph served</h2>
<p id="served" class="muted">…</p>
<div id="sections"></div>
<footer><span id="updated"></span> · refreshes every ${STATUS_REFRESH_MS / 1_000} s · JSON: <a href="health/subgraphs">/health/subgraphs</a> · <a href="status/data">/status/data</a> · <a href="metrics">/metrics</a></footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
