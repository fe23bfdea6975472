/**
 * Codes the ops listener answers with, in `{ "error": { "code", "message" } }`. API for scripts
 * and the runbook: add codes, never rename them.
 */
export const OpsErrorCode = {
  /** PORTICO_ADMIN_TOKEN is not set: every admin action is refused (403). */
  ADMIN_DISABLED: 'ADMIN_DISABLED',
  /** No `Authorization: Bearer` header on an admin action (401). */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** A bearer token that is not the admin token (403). */
  FORBIDDEN: 'FORBIDDEN',
  /** Malformed body or parameter (400). */
  BAD_REQUEST: 'BAD_REQUEST',
  /** No such route, or a breaker target naming no subgraph of the supergraph (404). */
  NOT_FOUND: 'NOT_FOUND',
  /** The new supergraph was rejected; the last good one keeps serving (422). */
  SUPERGRAPH_REJECTED: 'SUPERGRAPH_REJECTED',
  /** The action has no provider in this build or configuration (501). */
  NOT_IMPLEMENTED: 'NOT_IMPLEMENTED',
  /** Anything unexpected; details in the log (500). */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export type OpsErrorCode = (typeof OpsErrorCode)[keyof typeof OpsErrorCode];

export interface OpsErrorBody {
  error: { code: OpsErrorCode; message: string };
}

export function opsError(code: OpsErrorCode, message: string): OpsErrorBody {
  return { error: { code, message } };
}
