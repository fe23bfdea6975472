/** Pure parts of auth: error translation, the WWW-Authenticate value, header checks, claim mapping. */
import { errors } from 'jose';
import { describe, expect, it } from 'vitest';
import { checkProtectedHeader, extractBearerToken } from '../../../src/auth/bearer.ts';
import { principalFromClaims } from '../../../src/auth/claims.ts';
import { AUTH_ERROR_REASONS, AuthError, authErrorFromJose, httpStatusOf, wwwAuthenticate } from '../../../src/auth/errors.ts';
import { authorizationHeaderCount, checkBodyCredentials, checkHeaderCredentials, hasAccessTokenInQuery } from '../../../src/auth/credentials.ts';
import { b64url } from '../../helpers/auth.ts';

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof AuthError) return err.reason;
    throw err;
  }
  throw new Error('expected a throw');
}

describe('authErrorFromJose', () => {
  const payload = { sub: 'a' };
  it.each([
    [new errors.JWTExpired('m', payload, 'exp', 'check_failed'), 'expired', undefined],
    [new errors.JWTClaimValidationFailed('m', payload, 'nbf', 'check_failed'), 'not_yet_valid', undefined],
    [new errors.JWTClaimValidationFailed('m', payload, 'exp', 'missing'), 'missing_claim', 'exp'],
    [new errors.JWTClaimValidationFailed('m', payload, 'aud', 'check_failed'), 'claim_invalid', 'aud'],
    [new errors.JWTClaimValidationFailed('m', payload, 'nbf', 'invalid'), 'claim_invalid', 'nbf'],
    [new errors.JWSSignatureVerificationFailed(), 'bad_signature', undefined],
    [new errors.JWKSNoMatchingKey(), 'unknown_key', undefined],
    [new errors.JWKSMultipleMatchingKeys(), 'unknown_key', undefined],
    [new errors.JOSEAlgNotAllowed('m'), 'alg_not_allowed', undefined],
    [new errors.JWSInvalid('m'), 'malformed', undefined],
    [new errors.JWTInvalid('m'), 'malformed', undefined],
  ])('%s → %s', (err, reason, claim) => {
    const translated = authErrorFromJose(err);
    expect(translated?.reason).toBe(reason);
    expect(translated?.claim).toBe(claim);
    expect(translated?.cause).toBe(err);
  });

  it('translates on code, not on message text', () => {
    expect(authErrorFromJose(new Error('"exp" claim timestamp check failed'))).toBeUndefined();
    expect(authErrorFromJose(Object.assign(new Error('whatever'), { code: 'ERR_JWT_EXPIRED' }))?.reason).toBe('expired');
  });

  it('leaves unknown errors alone', () => {
    expect(authErrorFromJose(new TypeError('bug'))).toBeUndefined();
    expect(authErrorFromJose('string')).toBeUndefined();
    expect(authErrorFromJose({ code: 'ECONNRESET' })).toBeUndefined();
  });
});

describe('wwwAuthenticate', () => {
  it('formats the RFC 6750 challenge', () => {
    expect(wwwAuthenticate(new AuthError('expired'))).toBe('Bearer error="invalid_token", error_description="token expired"');
    expect(wwwAuthenticate()).toBe('Bearer');
  });

  it('cannot be broken out of by a message', () => {
    const header = wwwAuthenticate(new AuthError('claim_invalid', { message: 'bad "x"\\\r\nSet-Cookie: a=b' }));
    expect(header).toBe('Bearer error="invalid_token", error_description="bad ?x????Set-Cookie: a=b"');
  });

  it('every reason has a description-safe default message', () => {
    for (const reason of AUTH_ERROR_REASONS) {
      const error = reason === 'invalid_request' ? 'invalid_request' : 'invalid_token';
      expect(wwwAuthenticate(new AuthError(reason))).toBe(`Bearer error="${error}", error_description="${new AuthError(reason).message}"`);
    }
  });

  it('a request that sends credentials ambiguously is invalid_request, 400 (RFC 6750 §3.1)', () => {
    const err = new AuthError('invalid_request', { message: '2 Authorization headers: send exactly one' });
    expect(wwwAuthenticate(err)).toBe('Bearer error="invalid_request", error_description="2 Authorization headers: send exactly one"');
    expect(httpStatusOf(err)).toBe(400);
    expect(httpStatusOf(new AuthError('expired'))).toBe(401);
    expect(httpStatusOf(undefined)).toBe(401);
  });
});

describe('extractBearerToken', () => {
  it('extracts the token', () => {
    expect(extractBearerToken('Bearer abc.def.ghi', 100)).toBe('abc.def.ghi');
    expect(extractBearerToken('BEARER   abc.def.ghi  ', 100)).toBe('abc.def.ghi');
  });
  it('refuses oversize before matching', () => {
    expect(reasonOf(() => extractBearerToken(`Bearer ${'a'.repeat(101)}`, 100))).toBe('too_large');
    expect(reasonOf(() => extractBearerToken('x'.repeat(1_000_000), 100))).toBe('too_large');
  });
  it.each(['Bearer', 'Bearer ', 'Token abc', 'Bearerabc', 'Bearer a b', 'Bearer a\tb', ''])('refuses %j', (header) => {
    expect(reasonOf(() => extractBearerToken(header, 100))).toBe('malformed');
  });
});

describe('checkProtectedHeader', () => {
  const allowed = new Set(['ES256']);
  it('returns the header of an acceptable token', () => {
    expect(checkProtectedHeader(`${b64url({ alg: 'ES256', kid: 'k' })}.e30.c2ln`, allowed)).toEqual({ alg: 'ES256', kid: 'k' });
  });
  it.each([
    [`${b64url({ alg: 'none' })}.e30.`, 'alg_not_allowed'],
    [`${b64url({ alg: 'RS256' })}.e30.c2ln`, 'alg_not_allowed'],
    [`${b64url({ alg: 'ES256', jku: 'https://x' })}.e30.c2ln`, 'header_not_allowed'],
    [`${b64url({ alg: 'ES256' })}.e30`, 'malformed'],
    [`${b64url('[]')}.e30.c2ln`, 'malformed'],
    [`${b64url({ alg: 7 })}.e30.c2ln`, 'malformed'],
  ])('%s → %s', (token, reason) => {
    expect(reasonOf(() => checkProtectedHeader(token, allowed))).toBe(reason);
  });
});

describe('principalFromClaims', () => {
  it('maps sub, scope string and tier; de-duplicates and is frozen', () => {
    const p = principalFromClaims({ sub: 'a', scope: '  x y\tx ', tier: 'gold' }, 'tier');
    expect(p).toEqual({ kind: 'user', subject: 'a', scopes: ['x', 'y'], tier: 'gold' });
    expect(Object.isFrozen(p)).toBe(true);
  });
  it('takes the first scope claim present: scope, then scp, then scopes', () => {
    expect(principalFromClaims({ sub: 'a', scope: 'x', scp: ['y'], scopes: ['z'] }, 'tier')).toMatchObject({ scopes: ['x'] });
    expect(principalFromClaims({ sub: 'a', scp: 'y1 y2', scopes: ['z'] }, 'tier')).toMatchObject({ scopes: ['y1', 'y2'] });
    expect(principalFromClaims({ sub: 'a', scopes: ['z'] }, 'tier')).toMatchObject({ scopes: ['z'] });
    expect(principalFromClaims({ sub: 'a' }, 'tier')).toMatchObject({ scopes: [], tier: undefined });
  });
  it.each([
    [{}, 'missing_claim'],
    [{ sub: '' }, 'claim_invalid'],
    [{ sub: 'a', scope: 5 }, 'claim_invalid'],
    [{ sub: 'a', scopes: ['has space'] }, 'claim_invalid'],
    [{ sub: 'a', scp: [''] }, 'claim_invalid'],
    [{ sub: 'a', tier: '' }, 'claim_invalid'],
    [{ sub: 'a', tier: ['gold'] }, 'claim_invalid'],
  ])('%j → %s', (payload, reason) => {
    expect(reasonOf(() => principalFromClaims(payload, 'tier'))).toBe(reason);
  });
});

describe('where credentials may be', () => {
  it('counts Authorization headers in the raw list, whatever their spelling', () => {
    expect(authorizationHeaderCount(['Host', 'x', 'Authorization', 'Bearer a'])).toBe(1);
    expect(authorizationHeaderCount(['authorization', 'Bearer a', 'X-Authorization', 'b', 'AUTHORIZATION', ''])).toBe(2);
    expect(authorizationHeaderCount([])).toBe(0);
  });

  it('finds access_token in a query string, encoded or not, and nowhere else', () => {
    expect(hasAccessTokenInQuery('/graphql?access_token=abc')).toBe(true);
    expect(hasAccessTokenInQuery('/graphql?query=x&%61ccess_token=abc')).toBe(true);
    expect(hasAccessTokenInQuery('/graphql?access_token')).toBe(true);
    expect(hasAccessTokenInQuery('/graphql?query=%7B%20access_token%20%7D')).toBe(false);
    expect(hasAccessTokenInQuery('/graphql')).toBe(false);
  });

  it('refuses two headers, or a token in the query string or body, as invalid_request', () => {
    expect(checkHeaderCredentials(['Authorization', 'a'], '/graphql')).toBeUndefined();
    expect(checkHeaderCredentials(['Authorization', 'a', 'authorization', 'b'], '/graphql')?.reason).toBe('invalid_request');
    expect(checkHeaderCredentials([], '/graphql?access_token=a')?.reason).toBe('invalid_request');
    expect(checkBodyCredentials({ query: '{ a }', access_token: 'a' }, false)?.reason).toBe('invalid_request');
    expect(checkBodyCredentials({ query: '{ a }', variables: { access_token: 'a' } }, true)).toBeUndefined();
    expect(checkBodyCredentials(undefined, true)).toBeUndefined();
    expect(checkBodyCredentials([{ access_token: 'a' }], true)).toBeUndefined();
  });
});
