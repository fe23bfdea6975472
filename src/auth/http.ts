/**
 * The authentication step at the HTTP edge: `Authorization` header → {@link Principal}, or a 401
 * before the request costs anything more (its body is not even read).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ErrorCode } from '../errors/codes.ts';
import { AuthError, isAuthError, wwwAuthenticate } from './errors.ts';
import { assertForwardable } from './identity.ts';
import type { TokenVerifier } from './jwt.ts';
import { ANONYMOUS } from './principal.ts';
import type { Principal } from './principal.ts';

/**
 * `optional`: requests without a token run as anonymous (public fields only, as authorization
 * decides); `required`: every request needs a valid token. A token that is sent is verified in
 * both modes, and a bad one is always a 401: it is never downgraded to anonymous.
 */
export type AuthMode = 'optional' | 'required';

export interface AuthenticationOptions {
  readonly mode: AuthMode;
  /** Claim holding the tier, named in the error when its value cannot be forwarded. */
  readonly tierClaim: string;
}

export interface AuthenticationDeps {
  /**
   * `undefined` when no key source is configured: authentication is off, every request is
   * anonymous, and a request that carries a token anyway gets a 401 (it cannot be verified, and
   * silently ignoring it would hand the caller less than it believes it asked for).
   */
  readonly verifier: TokenVerifier | undefined;
  readonly logger: Logger;
}

export interface Authentication {
  /** Fastify hook for the GraphQL routes; answers 401 itself or records the principal. */
  hook(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  /** The principal the hook recorded for `req`; {@link ANONYMOUS} for requests it did not see. */
  principalOf(req: FastifyRequest): Principal;
}

/** GraphQL-shaped body of every 401. */
export interface UnauthenticatedBody {
  readonly errors: readonly [{ readonly message: string; readonly extensions: { readonly code: typeof ErrorCode.UNAUTHENTICATED } }];
}

const TOKEN_REQUIRED_MESSAGE = 'authentication required: send Authorization: Bearer <token>';

/** 401 status, `WWW-Authenticate` challenge and body for a refused (or missing) token. Pure. */
export function unauthenticatedResponse(err: AuthError | undefined): { status: 401; wwwAuthenticate: string; body: UnauthenticatedBody } {
  return {
    status: 401,
    wwwAuthenticate: wwwAuthenticate(err),
    body: { errors: [{ message: err?.message ?? TOKEN_REQUIRED_MESSAGE, extensions: { code: ErrorCode.UNAUTHENTICATED } }] },
  };
}

/** Creates the authentication step. See {@link AuthenticationDeps.verifier} for "auth off". */
export function createAuthentication(options: AuthenticationOptions, deps: AuthenticationDeps): Authentication {
  const log = deps.logger.child({ component: 'authentication' });
  // Keyed by the request, so the principal lives exactly as long as the request does.
  const principals = new WeakMap<FastifyRequest, Principal>();

  async function principalFor(header: string | undefined): Promise<Principal> {
    if (deps.verifier === undefined) {
      if (header === undefined) return ANONYMOUS;
      // No keys are configured, so no token can be valid: to the client, an unknown key.
      throw new AuthError('unknown_key');
    }
    const principal = await deps.verifier.verify(header);
    assertForwardable(principal, options.tierClaim);
    return principal;
  }

  function refuse(reply: FastifyReply, err: AuthError | undefined): FastifyReply {
    const r = unauthenticatedResponse(err);
    return reply
      .code(r.status)
      .header('www-authenticate', r.wwwAuthenticate)
      .header('content-type', 'application/json; charset=utf-8')
      .send(JSON.stringify(r.body));
  }

  return {
    async hook(req, reply) {
      const header = req.headers.authorization;
      let principal: Principal;
      try {
        principal = await principalFor(header);
      } catch (err) {
        if (isAuthError(err)) {
          log.debug({ reason: err.reason, claim: err.claim }, 'token refused');
          return refuse(reply, err);
        }
        // A bug or a broken key, not a bad header: fail closed with a 401 (never a 500 that a
        // header value could trigger at will), and tell operators in full.
        log.error({ err }, 'token verification failed unexpectedly; answered 401');
        return refuse(reply, new AuthError('jwks_unavailable', { message: 'token cannot be verified right now' }));
      }
      if (options.mode === 'required' && principal.kind !== 'user') return refuse(reply, undefined);
      principals.set(req, principal);
      return undefined;
    },
    principalOf(req) {
      return principals.get(req) ?? ANONYMOUS;
    },
  };
}
