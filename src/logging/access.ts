import type { Principal } from '../auth/principal.ts';
import { CLIENT_CLOSED_REQUEST, type FinishedRequest } from '../request/context.ts';
import type { Logger } from './index.ts';

/**
 * One access-log line per client request, written when its answer is final (the request
 * lifecycle's `onFinish`), so refusals at the edge (400, 401, 413, 429) and clients that went
 * away (499) are logged like GraphQL answers. Everything on the line comes from the request's
 * state: correlation ids, principal, operation, cost, degraded fields, trusted-documents outcome.
 * Hot-path cost: one object and one log call.
 */

/** Longest operation name / path logged, chars: names are client-chosen. */
const MAX_LOGGED_CHARS = 128;
/** Most degraded coordinates listed on one line; the count says how many there were. */
const MAX_LOGGED_COORDINATES = 20;

export interface AccessLogDeps {
  readonly logger: Logger;
}

export interface AccessLog {
  /** Writes the line of a finished request: pass to the request lifecycle's `onFinish`. */
  write(request: FinishedRequest): void;
}

/** `anonymous`, the principal's tier, or `unspecified` for a verified token without one. */
export function tierOf(principal: Principal | undefined): string {
  if (!principal || principal.kind === 'anonymous') return 'anonymous';
  return principal.tier ?? 'unspecified';
}

export function createAccessLog(deps: AccessLogDeps): AccessLog {
  const log = deps.logger.child({ component: 'access' });
  return {
    write({ state, method, path, status, ms }) {
      const op = state.operation;
      const coordinates = [...new Set(state.degraded.flatMap((d) => d.coordinates))];
      const line = {
        event: 'access',
        requestId: state.requestId,
        traceId: state.traceId,
        method,
        path: path.slice(0, MAX_LOGGED_CHARS),
        status,
        durationMs: Math.round(ms * 10) / 10,
        operationName: op?.name?.slice(0, MAX_LOGGED_CHARS),
        operationType: op?.type ?? 'none',
        subgraphs: [...state.subgraphsTouched],
        degraded: coordinates.slice(0, MAX_LOGGED_COORDINATES),
        ...(coordinates.length > MAX_LOGGED_COORDINATES ? { degradedCount: coordinates.length } : {}),
        tier: tierOf(state.principal),
        // Cost in objects (src/hardening/cost.ts): estimated once resolved, actual once executed.
        ...(state.cost?.estimated !== undefined ? { costEstimated: state.cost.estimated, subgraphFetches: state.cost.subgraphFetches } : {}),
        ...(state.cost?.actual !== undefined ? { costActual: state.cost.actual } : {}),
        ...(state.trustedDocument?.outcome !== undefined ? { trustedDocument: state.trustedDocument.outcome } : {}),
        // A synthetic probe of this instance (src/probes/), not a client.
        ...(state.probe !== undefined ? { probe: state.probe } : {}),
      };
      const msg = `${method} ${line.path} ${status}${status === CLIENT_CLOSED_REQUEST ? ' (client went away)' : ''} ${line.durationMs} ms`;
      if (status >= 500) log.warn(line, msg);
      else log.info(line, msg);
    },
  };
}
