/**
 * deploy/haproxy/haproxy.cfg, offline: HAProxy itself validates it (for the local cluster's and
 * compose's environments), and the settings that form a contract with the gateway are checked
 * against the gateway's own defaults, so changing one side without the other fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DRAIN_DELAY_MS, DEFAULT_KEEP_ALIVE_TIMEOUT_MS, DEFAULT_MAX_HEADER_BYTES } from '../../src/config/index.ts';
import { checkHaproxyConfig, HAPROXY_CONFIG } from '../../devkit/haproxy.ts';

const cfg = readFileSync(HAPROXY_CONFIG, 'utf8');
/** Config lines without comments, trimmed. */
const lines = cfg
  .split('\n')
  .map((l) => l.replace(/#.*$/, '').trim())
  .filter((l) => l !== '');
const directive = (name: string) => lines.filter((l) => l === name || l.startsWith(`${name} `));
const DURATION_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
/** HAProxy time value (`1s`, `500ms`, `2000` = ms) in ms. */
function ms(value: string): number {
  const m = /^(\d+)(us|ms|s|m|h)?$/.exec(value);
  if (!m) throw new Error(`not a HAProxy duration: ${value}`);
  return Number(m[1]) * DURATION_MS[m[2] ?? 'ms']!;
}
function option(line: string, name: string): string | undefined {
  const words = line.split(/\s+/);
  const i = words.indexOf(name);
  return i === -1 ? undefined : words[i + 1];
}

describe('haproxy -c', () => {
  it('accepts the config with the local cluster defaults, without a single warning', () => {
    const r = checkHaproxyConfig({}, { zeroWarning: true });
    expect(r.output).toContain('Configuration file is valid');
    expect(r.ok, r.output).toBe(true);
  });

  it("accepts it with docker-compose's environment (names unresolvable here: servers start down)", () => {
    const r = checkHaproxyConfig({
      PORTICO_LB_BIND: ':8080',
      PORTICO_LB_STATS_BIND: ':8404',
      PORTICO_LB_GW1: 'gateway:4000',
      PORTICO_LB_GW2: 'gateway:4000',
      PORTICO_LB_GW3: 'gateway:4000',
      PORTICO_LB_DNS: '127.0.0.11:53',
    });
    expect(r.ok, r.output).toBe(true);
  });

  it('refuses a broken value, so the checks above mean something', () => {
    const r = checkHaproxyConfig({ PORTICO_LB_GW1: 'not an address:xyz' });
    expect(r.ok).toBe(false);
  });
});

describe('the contract with the gateway', () => {
  const server = directive('default-server')[0] ?? '';

  it('takes a draining instance out before it stops accepting: drain delay > inter × fall + slack', () => {
    const inter = ms(option(server, 'inter') ?? '2000');
    const fall = Number(option(server, 'fall') ?? 3);
    const slackMs = 500;
    expect(directive('option httpchk')).toHaveLength(1);
    expect(lines).toContain('http-check expect status 200');
    expect(lines.some((l) => l.startsWith('http-check send meth GET uri /health/ready'))).toBe(true);
    expect(DEFAULT_DRAIN_DELAY_MS).toBeGreaterThan(inter * fall + slackMs);
    // And back in rotation after `rise` good checks.
    expect(Number(option(server, 'rise'))).toBeGreaterThanOrEqual(1);
  });

  it('admits the headers the gateway admits: tune.bufsize − tune.maxrewrite a little above PORTICO_MAX_HEADER_BYTES', () => {
    const bufsize = Number(directive('tune.bufsize')[0]?.split(/\s+/)[1]);
    const maxrewrite = Number(directive('tune.maxrewrite')[0]?.split(/\s+/)[1] ?? 1_024);
    // HTX needs a few hundred bytes of its own: keep a margin so the gateway's coded 431, not
    // HAProxy's bare 400, answers headers just over the limit.
    expect(bufsize - maxrewrite).toBeGreaterThanOrEqual(DEFAULT_MAX_HEADER_BYTES + 512);
    // …but not far more: the excess would only reach an instance to be refused there.
    expect(bufsize - maxrewrite).toBeLessThanOrEqual(DEFAULT_MAX_HEADER_BYTES + 2_048);
  });

  it('never resends a request an instance may have executed', () => {
    expect(directive('retries')).toEqual(['retries 2']);
    expect(directive('option redispatch')).toHaveLength(1);
    const retryOn = directive('retry-on');
    expect(retryOn).toHaveLength(1);
    const conditions = retryOn[0]!.split(/\s+/).slice(1);
    // Only "the request was never sent" and, for GET, "nothing came back".
    for (const c of conditions) expect(['conn-failure', 'empty-response']).toContain(c);
    if (conditions.includes('empty-response')) {
      expect(lines).toContain('http-request disable-l7-retry if !METH_GET !METH_HEAD');
    }
    expect(lines.filter((l) => l.startsWith('option http-buffer-request'))).toEqual([]);
  });

  it('closes idle server connections before the gateway does, appends X-Forwarded-For, reuses safely', () => {
    const keepAlive = ms(directive('timeout http-keep-alive')[0]!.split(/\s+/)[2]!);
    expect(keepAlive).toBeLessThan(DEFAULT_KEEP_ALIVE_TIMEOUT_MS);
    expect(directive('option forwardfor')).toHaveLength(1);
    expect(directive('http-reuse')).toEqual(['http-reuse safe']);
    expect(directive('balance')).toEqual(['balance roundrobin']);
    for (const t of ['connect', 'client', 'server', 'http-request', 'http-keep-alive']) expect(directive(`timeout ${t}`)).toHaveLength(1);
  });
});
