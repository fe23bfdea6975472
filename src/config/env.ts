import { z } from 'zod';
import { validatePolicies } from '../rateLimit/policies.ts';
import { parseRedisUrl, RedisUrlError } from '../redis/url.ts';

/**
 * Small zod builders for environment values. Every builder produces a message that says what is
 * allowed, because the message is all an operator sees when the process refuses to start.
 */

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** An integer in [min, max]; `undefined` or '' falls back to `def`. */
export function int(def: number, min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => (raw === undefined || raw.trim() === '' ? def : integerIn(raw, min, max, ctx)));
}

/** An integer in [min, max], or `undefined` when unset or ''. */
export function optionalInt(min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => (raw === undefined || raw.trim() === '' ? undefined : integerIn(raw, min, max, ctx)));
}

function integerIn(raw: string, min: number, max: number, ctx: z.RefinementCtx): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    ctx.addIssue({ code: 'custom', message: `expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}` });
    return z.NEVER;
  }
  return n;
}

/** A number in [min, max]. */
export function num(def: number, min: number, max: number) {
  return optionalNum(min, max).transform((n) => n ?? def);
}

/** A number in [min, max], or `undefined` when unset or ''. */
export function optionalNum(min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return undefined;
      const n = Number(raw);
      if (!Number.isFinite(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected a number from ${min} to ${max}, got ${JSON.stringify(raw)}` });
        return z.NEVER;
      }
      return n;
    });
}

/** A boolean: true/false, 1/0, yes/no, on/off. */
export function bool(def: boolean) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return def;
      const v = raw.trim().toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true or false, got ${JSON.stringify(raw)}` });
      return z.NEVER;
    });
}

/** One of a fixed set of words. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, def: T[number]) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T[number] => {
      if (raw === undefined || raw.trim() === '') return def;
      const v = raw.trim();
      if ((values as readonly string[]).includes(v)) return v;
      ctx.addIssue({ code: 'custom', message: `expected one of ${values.join(', ')}, got ${JSON.stringify(raw)}` });
      return z.NEVER;
    });
}

/** Free text; `undefined` when unset or empty. */
export function text() {
  return z
    .string()
    .optional()
    .transform((raw) => (raw === undefined || raw.trim() === '' ? undefined : raw.trim()));
}

/** An absolute http(s) URL, or `undefined` when unset. */
export function url(protocols: readonly string[] = ['http:', 'https:']) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return undefined;
      try {
        const u = new URL(raw.trim());
        if (!protocols.includes(u.protocol)) throw new Error('protocol');
        return u.toString();
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected an absolute ${protocols.join(' or ')} URL, got ${JSON.stringify(raw)}` });
        return z.NEVER;
      }
    });
}

/**
 * PORTICO_REDIS_URL: one Redis (`redis://`, `rediss://`, kept as the normalised URL, as before),
 * a Sentinel group (`redis+sentinel://`) or Cluster seed nodes (`redis+cluster://`), kept as
 * given. Every form is checked here, so a typo stops the start, not the first request.
 */
export function redisUrl() {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return undefined;
      try {
        const target = parseRedisUrl(raw);
        return target.kind === 'single' ? target.url : raw.trim();
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof RedisUrlError ? error.message : String(error) });
        return z.NEVER;
      }
    });
}

/** A comma-separated list of words. */
export function list(def: readonly string[], allowed?: readonly string[]) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return [...def];
      const items = raw
        .split(/[,\s]+/)
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = allowed ? items.filter((i) => !allowed.includes(i)) : [];
      if (bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: `expected a comma-separated list of ${allowed!.join(', ')}; not allowed: ${bad.join(', ')}` });
        return z.NEVER;
      }
      return items;
    });
}

/**
 * `name=value,name=value` pairs, e.g. subgraph URL overrides. `check` validates each value
 * and returns an error text or `undefined`.
 */
export function pairs(check: (value: string) => string | undefined) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const out: Record<string, string> = {};
      if (raw === undefined || raw.trim() === '') return out;
      for (const part of raw.split(',')) {
        const item = part.trim();
        if (!item) continue;
        const eq = item.indexOf('=');
        const name = eq > 0 ? item.slice(0, eq).trim() : '';
        const value = eq > 0 ? item.slice(eq + 1).trim() : '';
        const problem = name && value ? check(value) : 'expected name=value';
        if (problem) {
          ctx.addIssue({ code: 'custom', message: `expected comma-separated name=value pairs; ${JSON.stringify(item)}: ${problem}` });
          return z.NEVER;
        }
        out[name] = value;
      }
      return out;
    });
}

export function checkHttpUrl(value: string): string | undefined {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : 'not an http(s) URL';
  } catch {
    return 'not an absolute URL';
  }
}

/** Window lengths like `60s`, `1m`, `1h`, `1d`, `500ms` → milliseconds. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

type Quotas = Record<string, { limit: number; windowMs: number }>;

/**
 * Rate-limit policies: `tier=limit/window` pairs, e.g. `anonymous=60/1m,premium=10000/1d`; a
 * `cost` after the limit makes it a cost quota (`free=200000cost/1d`), counted in the cost
 * model's units. A tier may have both, one of each: `free=500/1d,free=200000cost/1d`.
 */
export function ratePolicies() {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const out: { requests: Quotas; cost: Quotas } = { requests: {}, cost: {} };
      if (raw === undefined || raw.trim() === '') return out;
      for (const part of raw.split(',')) {
        const item = part.trim();
        if (!item) continue;
        const m = /^([A-Za-z0-9_-]{1,64})=(\d{1,12})(cost)?\/(\d{1,9})(ms|s|m|h|d)$/.exec(item);
        if (!m || Number(m[2]) < 1 || Number(m[4]) < 1) {
          ctx.addIssue({ code: 'custom', message: `expected tier=limit/window pairs like anonymous=60/1m,premium=10000/1d, or a cost quota like free=200000cost/1d (window units ms, s, m, h, d); got ${JSON.stringify(item)}` });
          return z.NEVER;
        }
        out[m[3] ? 'cost' : 'requests'][m[1]!] = { limit: Number(m[2]), windowMs: Number(m[4]) * UNIT_MS[m[5]!]! };
      }
      // The limiter's own rules (window 1 s to 31 days, at most 1000 per ms), checked here so a
      // bad quota stops the start with the other problems instead of when the limiter is built.
      try {
        validatePolicies(out.requests);
        validatePolicies(out.cost);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/\s+/g, ' ') });
        return z.NEVER;
      }
      return out;
    });
}

/** Durations per tier: `premium=2s,free=500ms` (units ms, s, m); 0 allowed. */
export function tierDurations(def: Readonly<Record<string, number>>, maxMs: number) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return { ...def };
      const out: Record<string, number> = {};
      for (const part of raw.split(',')) {
        const item = part.trim();
        if (!item) continue;
        const m = /^([A-Za-z0-9_-]{1,64})=(\d{1,9})(ms|s|m)$/.exec(item);
        const ms = m ? Number(m[2]) * UNIT_MS[m[3]!]! : Number.NaN;
        if (!m || ms > maxMs) {
          ctx.addIssue({ code: 'custom', message: `expected tier=duration pairs like premium=2s,free=500ms (units ms, s, m; at most ${maxMs} ms); got ${JSON.stringify(item)}` });
          return z.NEVER;
        }
        out[m[1]!] = ms;
      }
      return out;
    });
}
