import type { ErrorCode } from '../errors/catalogue.ts';

/**
 * Access requirements and their evaluation against a principal. Pure: no schema, no I/O.
 *
 * `@requiresScopes(scopes: [["a"], ["b", "c"]])` and `@policy(policies: …)` share one shape, a
 * disjunction of conjunctions (`a OR (b AND c)`): a {@link Dnf}. A field can collect several of
 * them (its own directive, its parent type's, its return type's, each interface
 * implementation's), and all must hold, so a requirement keeps a list of DNF clauses.
 */

/** Disjunction (outer) of conjunctions (inner): `[["a"], ["b", "c"]]` means `a OR (b AND c)`. */
export type Dnf = readonly (readonly string[])[];

export interface Requirement {
  /** Canonical text of the requirement; equal requirements have equal keys (and are interned). */
  readonly key: string;
  /** `@authenticated`: any non-anonymous principal. */
  readonly authenticated: boolean;
  /** `@requiresScopes` clauses; every clause must be satisfied by the principal's scopes. */
  readonly scopes: readonly Dnf[];
  /** `@policy` clauses; every clause must be satisfied by the policy evaluator. */
  readonly policies: readonly Dnf[];
}

/**
 * Client-facing codes of the authorization step (meanings in src/errors/catalogue.ts).
 *
 * - `UNAUTHENTICATED`: the caller is anonymous and the field needs authentication or scopes;
 *   sending a valid token (with the named scopes) may grant it.
 * - `FORBIDDEN`: the caller is known but lacks a required scope or fails a required policy;
 *   retrying with the same credentials will not help.
 */
export type AuthorizationCode = typeof ErrorCode.UNAUTHENTICATED | typeof ErrorCode.FORBIDDEN;

/** Why a requirement is not met, stable for a given principal so it can be cached. */
export interface Denial {
  readonly code: AuthorizationCode;
  /** Human text after "Not authorized to access X: ", e.g. `requires scope pricing:internal`. */
  readonly reason: string;
  /** Compact, deterministic id of the failing part (`ua`, `us0`, `fs1`, `fp0`): part of the permission key. */
  readonly tag: string;
}

/** Decides one AND-group of policies (true = every policy in the group passes). */
export type PolicyGroupCheck = (group: readonly string[]) => boolean;

/** What evaluation needs from a principal, prepared once per request. */
export interface Access {
  readonly anonymous: boolean;
  readonly scopes: ReadonlySet<string>;
  readonly checkPolicyGroup: PolicyGroupCheck;
}

const EMPTY: Requirement = Object.freeze({ key: '', authenticated: false, scopes: [], policies: [] });

/** Sorts and dedupes groups and their members; drops the clause when it is trivially true. */
export function normalizeDnf(dnf: Dnf): Dnf | undefined {
  const groups = new Map<string, readonly string[]>();
  for (const group of dnf) {
    const members = [...new Set(group)].sort();
    // An empty AND-group is satisfied by anyone: the whole OR is then always true.
    if (members.length === 0) return undefined;
    groups.set(members.join('&'), members);
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, members]) => members);
}

function dnfKey(dnf: Dnf): string {
  return dnf.map((group) => group.join('&')).join('|');
}

function mergeClauses(a: readonly Dnf[], b: readonly Dnf[]): Dnf[] {
  const byKey = new Map<string, Dnf>();
  for (const clause of [...a, ...b]) byKey.set(dnfKey(clause), clause);
  return [...byKey.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, clause]) => clause);
}

function keyOf(authenticated: boolean, scopes: readonly Dnf[], policies: readonly Dnf[]): string {
  return `${authenticated ? 'A' : ''};S:${scopes.map(dnfKey).join(';')};P:${policies.map(dnfKey).join(';')}`;
}

/** Builds a requirement from directive values; `undefined` when it requires nothing. */
export function makeRequirement(parts: {
  authenticated?: boolean;
  scopes?: readonly Dnf[];
  policies?: readonly Dnf[];
}): Requirement | undefined {
  const normalize = (clauses: readonly Dnf[] | undefined) =>
    mergeClauses(
      [],
      (clauses ?? []).map(normalizeDnf).filter((clause): clause is Dnf => clause !== undefined),
    );
  const scopes = normalize(parts.scopes);
  const policies = normalize(parts.policies);
  const authenticated = parts.authenticated === true;
  if (!authenticated && scopes.length === 0 && policies.length === 0) return undefined;
  return { key: keyOf(authenticated, scopes, policies), authenticated, scopes, policies };
}

/** Conjunction of requirements (all must hold); `undefined` when none requires anything. */
export function allOf(requirements: readonly (Requirement | undefined)[]): Requirement | undefined {
  let authenticated = false;
  let scopes: Dnf[] = [];
  let policies: Dnf[] = [];
  let count = 0;
  let only: Requirement = EMPTY;
  for (const requirement of requirements) {
    if (requirement === undefined) continue;
    count += 1;
    only = requirement;
    authenticated ||= requirement.authenticated;
    scopes = mergeClauses(scopes, requirement.scopes);
    policies = mergeClauses(policies, requirement.policies);
  }
  if (count === 0) return undefined;
  if (count === 1) return only;
  return { key: keyOf(authenticated, scopes, policies), authenticated, scopes, policies };
}

/** `scope a`, `scopes a and b`, `scope a or scopes b and c`. */
function describeDnf(dnf: Dnf, singular: string, plural: string): string {
  if (dnf.length === 0) return `${plural} that cannot be satisfied`;
  return dnf
    .map((group) => (group.length === 1 ? `${singular} ${group[0]}` : `${plural} ${group.join(' and ')}`))
    .join(' or ');
}

/**
 * Evaluates a requirement; `undefined` means granted.
 *
 * Order matters for the error code and is fixed: authentication, then scopes, then policies.
 * An anonymous caller failing authentication or scopes gets UNAUTHENTICATED (logging in could
 * help); failing only a policy is FORBIDDEN (the policy already saw the anonymous principal).
 */
export function evaluateRequirement(requirement: Requirement, access: Access): Denial | undefined {
  const { anonymous, scopes: held, checkPolicyGroup } = access;
  if (requirement.authenticated && anonymous) {
    return { code: 'UNAUTHENTICATED', reason: 'requires authentication', tag: 'ua' };
  }
  if (requirement.scopes.length > 0) {
    for (let i = 0; i < requirement.scopes.length; i += 1) {
      const clause = requirement.scopes[i] ?? [];
      const satisfied = !anonymous && clause.some((group) => group.every((scope) => held.has(scope)));
      if (!satisfied) {
        return {
          code: anonymous ? 'UNAUTHENTICATED' : 'FORBIDDEN',
          reason: `requires ${describeDnf(clause, 'scope', 'scopes')}`,
          tag: `${anonymous ? 'u' : 'f'}s${i}`,
        };
      }
    }
  }
  for (let i = 0; i < requirement.policies.length; i += 1) {
    const clause = requirement.policies[i] ?? [];
    if (!clause.some((group) => checkPolicyGroup(group))) {
      return { code: 'FORBIDDEN', reason: `requires ${describeDnf(clause, 'policy', 'policies')}`, tag: `fp${i}` };
    }
  }
  return undefined;
}
