import { describe, expect, it } from 'vitest';
import { ANONYMOUS, type Principal } from '../../../src/auth/principal.ts';
import { clientIp, ipBucket, normalizeIp, resolveRateLimitSubject } from '../../../src/rateLimit/subject.ts';

const user = (subject: string, tier?: string): Principal => ({ kind: 'user', subject, scopes: [], tier });
const base = { principal: ANONYMOUS, apiKey: undefined, remoteAddress: '10.0.0.5', xForwardedFor: undefined };

describe('resolveRateLimitSubject: who pays', () => {
  it('a verified user is keyed by subject, with the tier from the token', () => {
    expect(resolveRateLimitSubject({ ...base, principal: user('alice', 'premium') })).toEqual({ key: 'sub:alice', tier: 'premium' });
  });

  it('a user without a tier claim gets tierClaimDefault, else free', () => {
    expect(resolveRateLimitSubject({ ...base, principal: user('bob') }).tier).toBe('free');
    expect(resolveRateLimitSubject({ ...base, principal: user('bob'), tierClaimDefault: 'trial' }).tier).toBe('trial');
  });

  it('the user wins over an API key and the IP; the key and address do not change the bucket', () => {
    const a = resolveRateLimitSubject({ ...base, principal: user('alice'), apiKey: 'k1', remoteAddress: '1.1.1.1' });
    const b = resolveRateLimitSubject({ ...base, principal: user('alice'), apiKey: 'k2', remoteAddress: '2.2.2.2' });
    expect(a).toEqual(b);
  });

  it('an API key is keyed by a hash of the key (never the secret itself), tier free by default', () => {
    const s = resolveRateLimitSubject({ ...base, apiKey: 'sk_live_secret' });
    expect(s.tier).toBe('free');
    expect(s.key).toMatch(/^key:[0-9a-f]{32}$/);
    expect(s.key).not.toContain('secret');
    expect(resolveRateLimitSubject({ ...base, apiKey: 'sk_live_secret', remoteAddress: '9.9.9.9' })).toEqual(s);
    expect(resolveRateLimitSubject({ ...base, apiKey: 'other' }).key).not.toBe(s.key);
    expect(resolveRateLimitSubject({ ...base, apiKey: 'x', apiKeyTier: 'partner' }).tier).toBe('partner');
  });

  it('an empty API key header counts as none', () => {
    expect(resolveRateLimitSubject({ ...base, apiKey: '' })).toEqual({ key: 'ip:10.0.0.5', tier: 'anonymous' });
  });

  it('anonymous callers are keyed by client IP in the anonymous tier', () => {
    expect(resolveRateLimitSubject(base)).toEqual({ key: 'ip:10.0.0.5', tier: 'anonymous' });
  });

  it('subject kinds never collide, even with look-alike values', () => {
    const ip = resolveRateLimitSubject({ ...base, remoteAddress: '1.2.3.4' }).key;
    const sub = resolveRateLimitSubject({ ...base, principal: user('1.2.3.4') }).key;
    expect(ip).not.toBe(sub);
  });

  it('no socket address at all still yields one stable bucket', () => {
    expect(resolveRateLimitSubject({ ...base, remoteAddress: undefined }).key).toBe('ip:unknown');
  });
});

describe('clientIp: trusted hops and forged X-Forwarded-For', () => {
  it('with 0 trusted hops the header is ignored entirely', () => {
    expect(clientIp('10.0.0.5', '6.6.6.6', 0)).toBe('10.0.0.5');
    expect(resolveRateLimitSubject({ ...base, xForwardedFor: '6.6.6.6' }).key).toBe('ip:10.0.0.5');
  });

  it('with N trusted hops takes the N-th entry from the right', () => {
    expect(clientIp('10.0.0.1', '203.0.113.7', 1)).toBe('203.0.113.7');
    expect(clientIp('10.0.0.1', '203.0.113.7, 10.0.0.2', 1)).toBe('10.0.0.2');
    expect(clientIp('10.0.0.1', '203.0.113.7, 10.0.0.2', 2)).toBe('203.0.113.7');
    expect(clientIp('10.0.0.1', '1.1.1.1,203.0.113.7 ,  10.0.0.2', 2)).toBe('203.0.113.7');
  });

  it('entries a client prepends never change the key', () => {
    const honest = resolveRateLimitSubject({ ...base, xForwardedFor: '203.0.113.7', trustedHops: 1 });
    for (const forged of ['6.6.6.6, 203.0.113.7', '1.1.1.1, 2.2.2.2, 203.0.113.7', 'garbage, 203.0.113.7', ', 203.0.113.7']) {
      expect(resolveRateLimitSubject({ ...base, xForwardedFor: forged, trustedHops: 1 })).toEqual(honest);
    }
    const twoHops = resolveRateLimitSubject({ ...base, xForwardedFor: '203.0.113.7, 10.1.1.1', trustedHops: 2 });
    expect(resolveRateLimitSubject({ ...base, xForwardedFor: '6.6.6.6, 203.0.113.7, 10.1.1.1', trustedHops: 2 })).toEqual(twoHops);
    expect(twoHops.key).toBe('ip:203.0.113.7');
  });

  it('treats repeated headers (array) as one list in order', () => {
    expect(clientIp('10.0.0.1', ['6.6.6.6', '203.0.113.7'], 1)).toBe('203.0.113.7');
    expect(clientIp('10.0.0.1', ['6.6.6.6', '203.0.113.7, 10.0.0.2'], 2)).toBe('203.0.113.7');
  });

  it('fewer entries than trusted hops: the leftmost (furthest recorded) entry', () => {
    expect(clientIp('10.0.0.1', '203.0.113.7', 3)).toBe('203.0.113.7');
  });

  it('a missing or empty header falls back to the socket address', () => {
    expect(clientIp('10.0.0.1', undefined, 1)).toBe('10.0.0.1');
    expect(clientIp('10.0.0.1', '', 1)).toBe('10.0.0.1');
    expect(clientIp('10.0.0.1', ' , ', 1)).toBe('10.0.0.1');
  });

  it('a chosen entry that is not an IP falls back to the socket (no free-form bucket names)', () => {
    expect(clientIp('10.0.0.1', 'unknown', 1)).toBe('10.0.0.1');
    expect(clientIp('10.0.0.1', '203.0.113.7, evil}key', 1)).toBe('10.0.0.1');
    expect(resolveRateLimitSubject({ ...base, xForwardedFor: `x${'a'.repeat(5000)}`, trustedHops: 1 }).key).toBe('ip:10.0.0.5');
  });

  it('accepts ports, brackets and IPv4-mapped IPv6 from proxies and sockets', () => {
    expect(clientIp('::ffff:10.0.0.1', undefined, 0)).toBe('10.0.0.1');
    expect(clientIp('10.0.0.1', '203.0.113.7:51234', 1)).toBe('203.0.113.7');
    expect(clientIp('10.0.0.1', '[2001:DB8::1]:443', 1)).toBe('2001:db8::1');
  });
});

describe('normalizeIp / ipBucket', () => {
  it('canonicalises or rejects', () => {
    expect(normalizeIp(' 192.0.2.1 ')).toBe('192.0.2.1');
    expect(normalizeIp('fe80::1%eth0')).toBe('fe80::1');
    expect(normalizeIp('0:0:0:0:0:ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIp('999.1.1.1')).toBeUndefined();
    expect(normalizeIp('example.com')).toBeUndefined();
    expect(normalizeIp(undefined)).toBeUndefined();
  });

  it('groups IPv6 by /64 so one host cannot rotate through its own prefix', () => {
    const a = resolveRateLimitSubject({ ...base, remoteAddress: '2001:db8:1:2:aaaa::1' });
    const b = resolveRateLimitSubject({ ...base, remoteAddress: '2001:db8:1:2:ffff:ffff:ffff:ffff' });
    const other = resolveRateLimitSubject({ ...base, remoteAddress: '2001:db8:1:3::1' });
    expect(a.key).toBe('ip:2001:db8:1:2:0:0:0:0/64');
    expect(b).toEqual(a);
    expect(other.key).not.toBe(a.key);
    expect(ipBucket('2001:db8::1', 128)).toBe('2001:db8:0:0:0:0:0:1/128');
    expect(ipBucket('2001:db8:abcd:ef12::', 56)).toBe('2001:db8:abcd:ef00:0:0:0:0/56');
    expect(ipBucket('203.0.113.7', 64)).toBe('203.0.113.7');
  });
});
