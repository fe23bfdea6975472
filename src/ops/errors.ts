import type { OpsErrorCode } from '../errors/catalogue.ts';

/**
 * The ops listener's error body, `{ "error": { "code", "message" } }`: its own shape, read by
 * scripts and the runbook. Its codes and statuses are in src/errors/catalogue.ts (the `ops`
 * column); add codes there, never rename them.
 */
export interface OpsErrorBody {
  error: { code: OpsErrorCode; message: string };
}

export function opsError(code: OpsErrorCode, message: string): OpsErrorBody {
  return { error: { code, message } };
}
