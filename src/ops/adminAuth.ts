import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrorCode, type OpsErrorCode } from '../errors/catalogue.ts';

export type AdminCheck = { ok: true } | { ok: false; status: 401 | 403; code: OpsErrorCode; message: string };

/**
 * Whether an `Authorization` header grants admin actions. Pure. No token configured refuses
 * everything (403): an ops port reachable by mistake must not be able to open breakers.
 * Compared in constant time over digests, so neither content nor length leaks through timing.
 */
export function checkAdminToken(configured: string | undefined, authorization: string | undefined): AdminCheck {
  if (!configured) {
    return { ok: false, status: 403, code: ErrorCode.ADMIN_DISABLED, message: 'admin actions are disabled on this instance: set PORTICO_ADMIN_TOKEN to enable them' };
  }
  const m = authorization ? /^Bearer[ ]+(\S+)\s*$/i.exec(authorization) : null;
  if (!m) {
    return { ok: false, status: 401, code: ErrorCode.UNAUTHENTICATED, message: 'admin actions need "Authorization: Bearer <PORTICO_ADMIN_TOKEN>"' };
  }
  const given = createHash('sha256').update(m[1]!).digest();
  const expected = createHash('sha256').update(configured).digest();
  if (!timingSafeEqual(given, expected)) {
    return { ok: false, status: 403, code: ErrorCode.FORBIDDEN, message: 'the bearer token is not this instance\'s admin token (PORTICO_ADMIN_TOKEN)' };
  }
  return { ok: true };
}
