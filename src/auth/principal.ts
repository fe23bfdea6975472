/**
 * Who is calling. Built once per request by the authentication step and read by every later
 * step (rate limiting, authorization, identity forwarding, access logs).
 */
export type Principal =
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'user';
      /** `sub` claim of the verified token. */
      readonly subject: string;
      /** Scopes from the token (`scope` space-separated string or `scp`/`scopes` array). */
      readonly scopes: readonly string[];
      /** Rate-limit tier from the configured claim, when present. */
      readonly tier: string | undefined;
    };

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });
