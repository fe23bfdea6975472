import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { Principal } from '../auth/principal.ts';

/** Who a request is charged to: `key` names the bucket within `tier`. */
export interface RateLimitSubject {
  /** `sub:<subject>`, `key:<sha256 prefix>` or `ip:<address or /64>`; kinds never collide. */
  readonly key: string;
  /** Tier whose policy applies (the limiter maps unknown tiers to its fallback tier). */
  readonly tier: string;
}

/** Tier of anonymous callers, limited per client IP. */
export const ANONYMOUS_TIER = 'anonymous';
/** Tier of authenticated callers whose token carries no tier claim. */
export const DEFAULT_AUTHENTICATED_TIER = 'free';
/** Tier of API-key callers. */
export const DEFAULT_API_KEY_TIER = 'free';
/**
 * IPv6 prefix length one anonymous bucket covers. A single host is routinely handed a whole /64,
 * so limiting per /128 would let one client rotate through 2^64 buckets.
 */
export const DEFAULT_IPV6_PREFIX_BITS = 64;

export interface RateLimitSubjectInput {
  /** Verified principal from the authentication step. */
  readonly principal: Principal;
  /**
   * API key, only once verified by the caller against the key store. An unverified key must be
   * passed as undefined: otherwise a client mints a fresh bucket per invented key.
   */
  readonly apiKey: string | undefined;
  /** Socket peer address (`request.socket.remoteAddress`). */
  readonly remoteAddress: string | undefined;
  /** Raw `X-Forwarded-For` header value(s), as Node delivers them. */
  readonly xForwardedFor: string | readonly string[] | undefined;
  /**
   * Proxies in front of the gateway that append to `X-Forwarded-For` (0 = clients connect
   * directly and the header is ignored). Default 0.
   */
  readonly trustedHops?: number;
  /** Tier for an authenticated principal without a tier claim. Default `'free'`. */
  readonly tierClaimDefault?: string;
  /** Tier for API-key callers. Default `'free'`. */
  readonly apiKeyTier?: string;
  /** IPv6 prefix bits per anonymous bucket. Default `DEFAULT_IPV6_PREFIX_BITS` (64). */
  readonly ipv6PrefixBits?: number;
}

/**
 * Verified token subject, else verified API key, else client IP. Pure: no I/O, same input,
 * same bucket, which is what makes limits exact across instances.
 */
export function resolveRateLimitSubject(input: RateLimitSubjectInput): RateLimitSubject {
  const { principal } = input;
  if (principal.kind === 'user') {
    return {
      key: `sub:${principal.subject}`,
      tier: principal.tier ?? input.tierClaimDefault ?? DEFAULT_AUTHENTICATED_TIER,
    };
  }
  if (input.apiKey !== undefined && input.apiKey !== '') {
    // Hashed: bucket keys are visible to anyone with Redis access; API keys are secrets.
    const digest = createHash('sha256').update(input.apiKey).digest('hex').slice(0, 32);
    return { key: `key:${digest}`, tier: input.apiKeyTier ?? DEFAULT_API_KEY_TIER };
  }
  const ip = clientIp(input.remoteAddress, input.xForwardedFor, input.trustedHops ?? 0);
  return { key: `ip:${ipBucket(ip, input.ipv6PrefixBits ?? DEFAULT_IPV6_PREFIX_BITS)}`, tier: ANONYMOUS_TIER };
}

/**
 * The client address as seen by the outermost trusted proxy. Each trusted proxy appends the
 * address it received the connection from, so with N trusted hops the N-th entry from the right
 * was written by a proxy we trust and everything left of it may be forged by the client.
 * With fewer entries than hops the request skipped a proxy, and the leftmost entry is the
 * furthest hop any proxy recorded. An entry that is not an IP address falls back to the socket.
 */
export function clientIp(
  remoteAddress: string | undefined,
  xForwardedFor: string | readonly string[] | undefined,
  trustedHops: number,
): string | undefined {
  const socket = normalizeIp(remoteAddress);
  if (trustedHops <= 0 || xForwardedFor === undefined) return socket;
  const raw = typeof xForwardedFor === 'string' ? xForwardedFor : xForwardedFor.join(',');
  const hops = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (hops.length === 0) return socket;
  const chosen = hops[Math.max(0, hops.length - trustedHops)];
  return normalizeIp(chosen) ?? socket;
}

/**
 * A bare, canonical IP from a socket or header value: strips `[...]`, ports and zone ids,
 * unmaps `::ffff:a.b.c.d`, lower-cases IPv6. Undefined when it is not an IP address.
 */
export function normalizeIp(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let s = value.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed?.[1] !== undefined) s = bracketed[1];
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(':'));
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  if (isIPv4(s)) return s;
  if (!isIPv6(s)) return undefined;
  s = s.toLowerCase();
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s);
  if (mapped?.[1] !== undefined && isIPv4(mapped[1])) return mapped[1];
  return s;
}

/** The bucket name of an address: IPv4 as is, IPv6 as its `/prefixBits` network. */
export function ipBucket(ip: string | undefined, prefixBits: number): string {
  if (ip === undefined) return 'unknown';
  if (!isIPv6(ip)) return ip;
  const groups = expandIpv6(ip);
  if (groups === undefined) return ip;
  const bits = Math.min(128, Math.max(0, prefixBits));
  const out: string[] = [];
  for (let i = 0; i < 8; i++) {
    const keep = Math.min(16, Math.max(0, bits - i * 16));
    const mask = keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
    out.push(((groups[i] ?? 0) & mask).toString(16));
  }
  return `${out.join(':')}/${bits}`;
}

/** Eight 16-bit groups of an IPv6 address (embedded IPv4 tail included). */
function expandIpv6(ip: string): number[] | undefined {
  let s = ip;
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined;
  const parts = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  return parts.map((p) => parseInt(p, 16));
}
