import type { KeyObject } from 'node:crypto';
import type { SupergraphManager } from '@apollo/gateway';
import type { Logger } from '../logging/index.ts';
import type { RedisClient } from '../redis/index.ts';
import type { SupergraphState } from '../supergraph/fileSupergraphManager.ts';
import type { CanaryPolicy, CanaryVerdict, Lane, LaneStats, LaneSummary, RequestOutcome } from './canary.ts';

/** A supergraph as a source delivered it, before the control plane has accepted it. */
export interface SupergraphVersion {
  readonly sdl: string;
  /** sha256 of the SDL, first 16 hex digits (what logs, `/status` and `npm run supergraph -- status` show). */
  readonly hash: string;
  /** Where it came from: the URL, `redis`, `file:<path>` or `cache:<dir>`. */
  readonly source: string;
}

/** What one poll or push delivery came to; the `portico_supergraph_fetches_total` outcomes. */
export type FetchOutcome = 'changed' | 'unchanged' | 'not_modified' | 'failure' | 'refused';
export const FETCH_OUTCOMES: readonly FetchOutcome[] = ['changed', 'unchanged', 'not_modified', 'failure', 'refused'];

/** Health of one supergraph URL for the status view (no bodies, no credentials: query strings dropped). */
export interface UrlStatus {
  url: string;
  ok: boolean | null;
  lastError: string | null;
  etag: string | null;
}

/** Source kinds, a bounded metric label. */
export type SourceKind = 'file' | 'http' | 'redis' | 'cache';
export const SOURCE_KINDS: readonly SourceKind[] = ['file', 'http', 'redis', 'cache'];

export interface ControlPlaneOptions {
  /** The file source; undefined when the supergraph comes only from URLs / Redis. */
  readonly file: { readonly path: string; readonly watch: boolean } | undefined;
  readonly http: { readonly urls: readonly string[]; readonly pollMs: number; readonly timeoutMs: number; readonly maxBytes: number; readonly publicKey: KeyObject | undefined } | undefined;
  /** Subscribe to pushed supergraphs through Redis (needs the Redis client). */
  readonly push: boolean;
  readonly cacheDir: string | undefined;
  readonly canary: CanaryPolicy;
  readonly instanceId: string;
}

/** The canary's second gateway, built by the wiring (it owns Apollo); pure I/O from here. */
export interface CanaryLanes {
  /** Builds and starts a gateway serving `sdl` next to the stable one; rejects when it refuses the schema. */
  open(sdl: string): Promise<void>;
  /** Stops it once its in-flight requests have finished. */
  close(): Promise<void>;
}

export interface ControlPlaneEvents {
  onReload?: (outcome: 'success' | 'failure' | 'unchanged') => void;
  onFetch?: (source: SourceKind, outcome: FetchOutcome) => void;
  onCanary?: (event: 'started' | 'promoted' | 'rolled_back') => void;
  onCanaryRequest?: (lane: Lane, failed: boolean) => void;
}

export interface ControlPlaneDeps extends ControlPlaneEvents {
  readonly logger: Logger;
  readonly redis: RedisClient | undefined;
  readonly lanes: CanaryLanes;
  readonly now?: () => number;
}

export interface Decision {
  readonly hash: string;
  readonly decision: 'promoted' | 'rolled-back';
  readonly reason: string;
  readonly at: string;
  /** Instance that decided (or `admin@<instance>`). */
  readonly by: string;
}

/** The control plane's part of `/health/subgraphs` and `/status`. */
export interface ControlPlaneStatus {
  serving: { hash: string; since: string; source: string; ageS: number } | null;
  canary: {
    hash: string;
    source: string;
    percent: number;
    startedAt: string;
    verdict: string;
    stable: LaneSummary;
    canary: LaneSummary;
  } | null;
  lastDecision: Decision | null;
  sources: { file: string | null; http: UrlStatus[]; push: { subscribed: boolean; lastReceived: { hash: string; at: string } | null } | null; cache: { dir: string; lastWrite: string | null; lastError: string | null } | null };
}

export interface ControlPlane {
  /** The stable gateway's supergraph manager (`supergraphSdl` of `ApolloGateway`). */
  readonly manager: SupergraphManager;
  /** Admin "reload": re-reads the file and polls the URLs now. */
  reload(): Promise<'success' | 'failure' | 'unchanged'>;
  /** What the stable lane serves; compatible with the file manager's state. */
  state(): SupergraphState;
  status(): ControlPlaneStatus;
  /** Lane of a request; `clientKey` (the caller's subject) makes it sticky. */
  pick(clientKey: string | undefined): Lane;
  /** One finished request of a lane. */
  record(lane: Lane, outcome: RequestOutcome): void;
  /** Admin: promote the running canary now (every instance follows). */
  promote(): Promise<{ ok: boolean; message: string }>;
  /** Admin: abort the running canary, or roll back the last promoted version if none runs. */
  abort(): Promise<{ ok: boolean; message: string }>;
  stop(): Promise<void>;
}

/** A supergraph being served, and since when. */
export interface Serving extends SupergraphVersion {
  since: Date;
}

/** A canary being watched: its version, both lanes' requests and the latest verdict. */
export interface RunningCanary {
  version: SupergraphVersion;
  startedAt: number;
  stable: LaneStats;
  canary: LaneStats;
  verdict: CanaryVerdict;
  deciding: boolean;
}
