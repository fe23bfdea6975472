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
    const c = h.gateway.cache;
    $('cache').textContent = c && c.enabled ? c.levels + (c.redis === 'unavailable' ? ' (Redis unavailable: in-process only)' : '') + ' · hit ratio: ' + (h.subgraphs.map((s) => s.name + ' ' + (s.cacheHitRatio === null ? '–' : pct(s.cacheHitRatio))).join(' · ')) : 'off';
    $('cache').className = c && c.redis === 'unavailable' ? 'warn' : '';
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
  refresh();
  setInterval(refresh, ${STATUS_REFRESH_MS});
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
<table>
  <thead><tr><th>subgraph</th><th>breaker key</th><th>state</th><th>1 min: calls · errors</th><th>1 min: p50 / p95 / p99 ms</th><th>5 min: calls · errors</th><th>in flight</th><th>last error</th></tr></thead>
  <tbody id="rows"></tbody>
</table>
<footer><span id="updated"></span> · refreshes every ${STATUS_REFRESH_MS / 1_000} s · JSON: <a href="health/subgraphs">/health/subgraphs</a> · <a href="metrics">/metrics</a></footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
