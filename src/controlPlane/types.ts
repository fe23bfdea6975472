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

/** Source kinds, a bounded metric label. */
export type SourceKind = 'file' | 'http' | 'redis' | 'cache';
export const SOURCE_KINDS: readonly SourceKind[] = ['file', 'http', 'redis', 'cache'];
