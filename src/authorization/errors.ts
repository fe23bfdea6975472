/**
 * Client-facing codes of the authorization step. They are API: clients branch on them, so they
 * never change meaning.
 *
 * - `UNAUTHENTICATED`: the caller is anonymous and the field needs authentication or scopes;
 *   sending a valid token (with the named scopes) may grant it.
 * - `FORBIDDEN`: the caller is known but lacks a required scope or fails a required policy;
 *   retrying with the same credentials will not help.
 */
export const AuthorizationCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
} as const;
export type AuthorizationCode = (typeof AuthorizationCode)[keyof typeof AuthorizationCode];
