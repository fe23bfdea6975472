/**
 * The authentication step at the HTTP edge: `Authorization` header → {@link Principal}, or a
 * refusal. Cheapest first, so hostile input costs little:
 * 1. `onRequest`, before the body is read: credentials in more than one place (two
 *    `Authorization` headers, `access_token` in the query string) → 400 `invalid_request`; a
 *    token that fails the checks needing no key (size, syntax, header) → 401; no token where one
 *    is required → 401.
 * 2. `verify`, the first pre-handler, once the body is parsed: an `access_token` in the body →
 *    400 `invalid_request`, still before any key lookup or signature check; then the token is
 *    verified → principal, or 401.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ErrorCode } from '../errors/catalogue.ts';
import { refusalBody, type RefusalBody } from '../errors/refusal.ts';
import { checkBodyCredentials, checkHeaderCredentials } from './credentials.ts';
import { AuthError, httpStatusOf, isAuthError, wwwAuthenticate } from './errors.ts';
import { assertForwardable } from './identity.ts';
import type { TokenVerifier } from './types.ts';
import { ANONYMOUS } from './principal.ts';
import type { Principal } from './principal.ts';
import { requestState } from '../request/state.ts';

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
  /**
   * Fastify `onRequest` hook for the GraphQL routes: refuses what the request line and headers
   * give away (400 / 401) before the body is read.
   */
  onRequest(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  /**
   * Fastify `preHandler` hook, first of them: refuses a token in the body (400), verifies the
   * header's token (401) and records the principal on the request's state.
   */
  verify(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
}

/** GraphQL-shaped body of every 401. */
export type UnauthenticatedBody = RefusalBody<typeof ErrorCode.UNAUTHENTICATED>;

/** GraphQL-shaped body of every 400 `invalid_request`. */
export type InvalidAuthRequestBody = RefusalBody<typeof ErrorCode.INVALID_AUTH_REQUEST>;

const TOKEN_REQUIRED_MESSAGE = 'authentication required: send Authorization: Bearer <token>';

/** 401 status, `WWW-Authenticate` challenge and body for a refused (or missing) token. Pure. */
export function unauthenticatedResponse(err: AuthError | undefined): { status: 401; wwwAuthenticate: string; body: UnauthenticatedBody } {
  return {
    status: 401,
    wwwAuthenticate: wwwAuthenticate(err),
    body: refusalBody(ErrorCode.UNAUTHENTICATED, err?.message ?? TOKEN_REQUIRED_MESSAGE),
  };
}

/**
 * Status, challenge and body of any refusal: 400 `INVALID_AUTH_REQUEST` for `invalid_request`,
 * otherwise {@link unauthenticatedResponse}. Pure.
 */
export function refusalResponse(
  err: AuthError | undefined,
): ReturnType<typeof unauthenticatedResponse> | { status: 400; wwwAuthenticate: string; body: InvalidAuthRequestBody } {
  if (err === undefined || httpStatusOf(err) === 401) return unauthenticatedResponse(err);
  return {
    status: 400,
    wwwAuthenticate: wwwAuthenticate(err),
    body: refusalBody(ErrorCode.INVALID_AUTH_REQUEST, err.message),
  };
}

/** Creates the authentication step. See {@link AuthenticationDeps.verifier} for "auth off". */
export function createAuthentication(options: AuthenticationOptions, deps: AuthenticationDeps): Authentication {
  const log = deps.logger.child({ component: 'authentication' });

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
    const r = refusalResponse(err);
    return reply
      .code(r.status)
      .header('www-authenticate', r.wwwAuthenticate)
      .header('content-type', 'application/json; charset=utf-8')
      .send(JSON.stringify(r.body));
  }

  /** Refuses with `err` when it is an AuthError; otherwise a bug: fail closed, tell operators. */
  function refuseOrFailClosed(reply: FastifyReply, err: unknown): FastifyReply {
    if (isAuthError(err)) {
      log.debug({ reason: err.reason, claim: err.claim }, 'token refused');
      return refuse(reply, err);
    }
    // A bug or a broken key, not a bad header: fail closed with a 401 (never a 500 that a
    // header value could trigger at will), and tell operators in full.
    log.error({ err }, 'token verification failed unexpectedly; answered 401');
    return refuse(reply, new AuthError('jwks_unavailable', { message: 'token cannot be verified right now' }));
  }

  return {
    async onRequest(req, reply) {
      const misplaced = checkHeaderCredentials(req.raw.rawHeaders, req.url);
      if (misplaced !== undefined) return refuseOrFailClosed(reply, misplaced);
      const header = req.headers.authorization;
      if (header === undefined) {
        return options.mode === 'required' ? refuse(reply, undefined) : undefined;
      }
      try {
        if (deps.verifier === undefined) throw new AuthError('unknown_key');
        deps.verifier.precheck(header);
      } catch (err) {
        return refuseOrFailClosed(reply, err);
      }
      return undefined;
    },
    async verify(req, reply) {
      const header = req.headers.authorization;
      const inBody = checkBodyCredentials(req.body, header !== undefined);
      if (inBody !== undefined) return refuseOrFailClosed(reply, inBody);
      let principal: Principal;
      try {
        principal = await principalFor(header);
      } catch (err) {
        return refuseOrFailClosed(reply, err);
      }
      if (options.mode === 'required' && principal.kind !== 'user') return refuse(reply, undefined);
      requestState(req).principal = principal;
      return undefined;
    },
  };
}
