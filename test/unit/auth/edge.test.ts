/** Pure parts of the gateway's authentication edge: identity headers, introspection policy, CORS matching. */
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/auth/errors.ts';
import { unauthenticatedResponse } from '../../../src/auth/http.ts';
import { assertForwardable, DEFAULT_IDENTITY_HEADERS, identityHeaders } from '../../../src/auth/identity.ts';
import { mayIntrospect, selectsSchemaIntrospection } from '../../../src/introspection/policy.ts';
import { ANONYMOUS, type Principal } from '../../../src/auth/principal.ts';
import { checkCorsOrigin, isOriginAllowed } from '../../../src/cors/origins.ts';

const alice: Principal = { kind: 'user', subject: 'alice', scopes: ['review:write', 'graph:introspect'], tier: 'premium' };

describe('identity headers', () => {
  it('carry subject, scopes and tier for a user, nothing for anonymous', () => {
    expect(identityHeaders(alice, DEFAULT_IDENTITY_HEADERS)).toEqual({
      'x-portico-subject': 'alice',
      'x-portico-scopes': 'review:write graph:introspect',
      'x-portico-tier': 'premium',
    });
    expect(identityHeaders({ ...alice, tier: undefined }, DEFAULT_IDENTITY_HEADERS)).not.toHaveProperty('x-portico-tier');
    expect(identityHeaders(ANONYMOUS, DEFAULT_IDENTITY_HEADERS)).toEqual({});
  });

  it('refuse identities a header cannot carry byte for byte', () => {
    expect(() => assertForwardable(alice, 'tier')).not.toThrow();
    for (const [principal, claim] of [
      [{ ...alice, subject: 'alice\r\nx-admin: 1' }, 'sub'],
      [{ ...alice, subject: 'ålice' }, 'sub'],
      [{ ...alice, subject: 'alice bob' }, 'sub'],
      [{ ...alice, scopes: ['ok', 'naïve'] }, 'scope'],
      [{ ...alice, tier: 'gold plus' }, 'plan'],
    ] as const) {
      const err = (() => {
        try {
          assertForwardable(principal, 'plan');
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(AuthError);
      expect(err).toMatchObject({ reason: 'claim_invalid', claim });
    }
  });
});

describe('401 responses', () => {
  it('carry the code, the message and the right challenge', () => {
    const refused = unauthenticatedResponse(new AuthError('expired'));
    expect(refused).toEqual({
      status: 401,
      wwwAuthenticate: 'Bearer error="invalid_token", error_description="token expired"',
      body: { errors: [{ message: 'token expired', extensions: { code: 'UNAUTHENTICATED' } }] },
    });
    expect(unauthenticatedResponse(undefined).wwwAuthenticate).toBe('Bearer');
  });
});

describe('introspection policy', () => {
  it('finds __schema and __type anywhere, but not __typename', () => {
    expect(selectsSchemaIntrospection(parse('{ __schema { types { name } } }'))).toBe(true);
    expect(selectsSchemaIntrospection(parse('query { ...F } fragment F on Query { __type(name: "X") { name } }'))).toBe(true);
    expect(selectsSchemaIntrospection(parse('{ __typename products { __typename id } }'))).toBe(false);
  });

  it('opens only to a user holding the configured scope', () => {
    expect(mayIntrospect(alice, 'graph:introspect')).toBe(true);
    expect(mayIntrospect(alice, undefined)).toBe(false);
    expect(mayIntrospect({ ...alice, scopes: [] }, 'graph:introspect')).toBe(false);
    expect(mayIntrospect(ANONYMOUS, 'graph:introspect')).toBe(false);
  });
});

describe('CORS origin matching', () => {
  const allowed = ['https://app.example.com', 'http://localhost:*', 'http://[::1]:*'];

  it('matches exact origins and port wildcards, nothing looser', () => {
    for (const o of ['https://app.example.com', 'http://localhost', 'http://localhost:3000', 'http://[::1]:8080']) expect(isOriginAllowed(o, allowed), o).toBe(true);
    for (const o of ['http://app.example.com', 'https://app.example.com:8443', 'https://app.example.com.evil.example', 'http://localhost.evil.example', 'http://localhost:3000.evil.example', 'https://localhost:3000', 'null']) {
      expect(isOriginAllowed(o, allowed), o).toBe(false);
    }
    expect(isOriginAllowed('https://anything.example', ['*'])).toBe(true);
    expect(isOriginAllowed('null', ['*'])).toBe(false);
  });

  it('validates configured entries', () => {
    for (const ok of ['*', 'https://app.example.com', 'https://app.example.com/', 'http://localhost:*', 'http://127.0.0.1:8080']) expect(checkCorsOrigin(ok), ok).toBeUndefined();
    for (const bad of ['app.example.com', 'https://app.example.com/path', 'ftp://x.example', 'https://App.example.com', 'https://*.example.com']) expect(checkCorsOrigin(bad), bad).toEqual(expect.any(String));
  });
});
