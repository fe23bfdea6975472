import type { ApolloServerPlugin, GraphQLRequest } from '@apollo/server';
import type { PorticoContext, TrustedDocumentOutcome } from '../request/context.ts';
import { clientInputPrefix } from '../errors/clientText.ts';
import { ErrorCode } from '../errors/catalogue.ts';
import { PorticoError } from '../errors/porticoError.ts';
import type { Logger } from '../logging/index.ts';
import { DEFAULT_RELOAD_DEBOUNCE_MS } from '../supergraph/fileSupergraphManager.ts';
import { parseTrustedDocuments, sha256Hex, TrustedDocumentsManifestError, type TrustedDocumentList } from './manifest.ts';
import { createFileManifestSource, createUrlManifestSource, type ManifestSource } from './source.ts';

/**
 * Trusted documents (persisted operations): the operations a company's own web and mobile apps
 * send, listed at build time in a manifest, so the gateway can run those and refuse the rest.
 *
 * A request names a listed operation by id (`extensions.persistedQuery.sha256Hash`, as Apollo
 * Client sends it, or the top-level `documentId`, as Relay and GraphQL over HTTP do) or sends
 * its text. The check runs in two Apollo hooks: `requestDidStart` swaps a listed id for its
 * text before Apollo Server looks for a query or an APQ hash, and `didResolveOperation`, after
 * parsing, decides on the text actually about to run — whether it came from the list, the
 * request, or the APQ cache. Refusing there also stops the APQ registration Apollo Server
 * writes only after that hook, so APQ can never make an unlisted document runnable.
 */

/** `off`: no check; `log`: unlisted operations run and are counted; `enforce`: only listed ones run. */
export type TrustedDocumentsMode = 'off' | 'log' | 'enforce';

/** 30 s: a new app release's list is live within a poll, and a 304 every 30 s costs the server nothing. */
export const DEFAULT_TRUSTED_DOCUMENTS_POLL_MS = 30_000;
/** 5 s: a manifest is a static file; a server slower than that is down. */
export const DEFAULT_TRUSTED_DOCUMENTS_FETCH_TIMEOUT_MS = 5_000;
/** 16 MiB: a manifest of 10,000 operations of 1 KB each is ~10 MB; a runaway answer is cut off. */
export const DEFAULT_TRUSTED_DOCUMENTS_MAX_BYTES = 16 * 1_048_576;
/** Like the supergraph file: editors and `cp` write in several steps. */
export const DEFAULT_TRUSTED_DOCUMENTS_DEBOUNCE_MS = DEFAULT_RELOAD_DEBOUNCE_MS;

export interface TrustedDocumentsOptions {
  readonly mode: TrustedDocumentsMode;
  /** Manifest file (either format), watched and hot-reloaded. Exactly one of `file` and `url` unless `off`. */
  readonly file?: string | undefined;
  /** Manifest URL (https, or http on loopback), polled every `pollIntervalMs`. */
  readonly url?: string | undefined;
  /** Poll interval of `url`, ms. Default {@link DEFAULT_TRUSTED_DOCUMENTS_POLL_MS}. */
  readonly pollIntervalMs?: number;
  /** Timeout of one fetch of `url`, ms. Default {@link DEFAULT_TRUSTED_DOCUMENTS_FETCH_TIMEOUT_MS}. */
  readonly fetchTimeoutMs?: number;
  /** Largest manifest accepted, bytes. Default {@link DEFAULT_TRUSTED_DOCUMENTS_MAX_BYTES}. */
  readonly maxBytes?: number;
  /** Debounce of file events, ms. Default {@link DEFAULT_TRUSTED_DOCUMENTS_DEBOUNCE_MS}. */
  readonly debounceMs?: number;
  /**
   * Token scope whose holders may run any operation in `enforce` mode (developers using Apollo
   * Sandbox or curl). Undefined: nobody.
   */
  readonly bypassScope?: string | undefined;
}

export type TrustedDocumentsLoadOutcome = 'success' | 'failure' | 'unchanged';

/** Where the counts go (the metrics module implements it). Hooks must not throw. */
export interface TrustedDocumentsMetrics {
  onRequest(outcome: TrustedDocumentOutcome): void;
  /** `operations`: the size of the list now served (meaningful on success). */
  onLoad(outcome: TrustedDocumentsLoadOutcome, operations: number): void;
}

export interface TrustedDocumentsDeps {
  readonly logger: Logger;
  readonly metrics?: TrustedDocumentsMetrics;
}

export interface TrustedDocumentsState {
  readonly mode: TrustedDocumentsMode;
  /** The file path or URL; undefined when off. */
  readonly source: string | undefined;
  /** Operations in the list served; 0 when off or not loaded yet. */
  readonly operations: number;
  /** sha256 of the manifest text served (first 16 hex digits). */
  readonly hash: string | undefined;
  readonly lastRejection: { readonly at: Date; readonly reason: string } | undefined;
}

export interface TrustedDocuments extends ApolloServerPlugin<PorticoContext> {
  /** Re-reads the list now (admin action, tests). Never throws; a bad list keeps the last good one. */
  reload(): Promise<TrustedDocumentsLoadOutcome>;
  state(): TrustedDocumentsState;
}

type Lifecycle = 'created' | 'serving' | 'stopped';

/**
 * The trusted documents plugin: add it to Apollo Server's plugins right after the request-errors
 * plugin. It loads the list when Apollo Server starts (a list that cannot be loaded then stops
 * the start: enforcing nothing, or everything, would both be wrong) and stops watching when it
 * stops. With `mode: 'off'` it does nothing.
 * @throws Error at construction when the options are inconsistent (config validates them first).
 */
export function createTrustedDocuments(options: TrustedDocumentsOptions, deps: TrustedDocumentsDeps): TrustedDocuments {
  const log = deps.logger.child({ component: 'trusted-documents' });
  const source = sourceFor(options);
  let lifecycle: Lifecycle = 'created';
  let list: TrustedDocumentList | undefined;
  let hash: string | undefined;
  let lastRejection: TrustedDocumentsState['lastRejection'];
  let reloading: Promise<TrustedDocumentsLoadOutcome> | undefined;

  /** @throws Error when the list cannot be read or parsed (the caller decides: fatal or kept). */
  async function load(): Promise<TrustedDocumentsLoadOutcome> {
    const text = await source!.read();
    if (text === 'unchanged') return 'unchanged';
    const textHash = sha256Hex(text).slice(0, 16);
    if (textHash === hash) return 'unchanged';
    const parsed = parseTrustedDocuments(text);
    list = parsed;
    hash = textHash;
    lastRejection = undefined;
    log.info({ event: 'trusted_documents_load', outcome: 'success', operations: parsed.size, format: parsed.format, hash }, `trusted documents loaded: ${parsed.size} operations`);
    return 'success';
  }

  async function reloadOnce(): Promise<TrustedDocumentsLoadOutcome> {
    if (lifecycle !== 'serving') return 'unchanged';
    let outcome: TrustedDocumentsLoadOutcome;
    try {
      outcome = await load();
    } catch (err) {
      const reason = reasonOf(err);
      lastRejection = { at: new Date(), reason };
      log.error({ event: 'trusted_documents_load', outcome: 'failure', reason, servingHash: hash }, `trusted documents rejected, keeping the last good list: ${reason}`);
      outcome = 'failure';
    }
    deps.metrics?.onLoad(outcome, list?.size ?? 0);
    return outcome;
  }

  function reload(): Promise<TrustedDocumentsLoadOutcome> {
    // Serialized: a poll landing during a file event must not interleave two loads.
    const next = (reloading ?? Promise.resolve('unchanged' as const)).then(reloadOnce, reloadOnce);
    reloading = next;
    return next;
  }

  const refuse = (ctx: PorticoContext, message: string): PorticoError => {
    note(ctx, 'refused');
    return new PorticoError(message, ErrorCode.PERSISTED_QUERY_NOT_IN_LIST, TRUSTED_DOCUMENTS_HTTP_STATUS);
  };
  const note = (ctx: PorticoContext, outcome: TrustedDocumentOutcome) => {
    if (ctx.trustedDocument) ctx.trustedDocument.outcome = outcome;
    deps.metrics?.onRequest(outcome);
  };

  return {
    async serverWillStart() {
      if (source === undefined) return;
      try {
        await load();
      } catch (err) {
        const reason = reasonOf(err);
        deps.metrics?.onLoad('failure', 0);
        throw new Error(`cannot load the trusted documents list from ${source.description}: ${reason} (PORTICO_TRUSTED_DOCUMENTS_${options.file !== undefined ? 'FILE' : 'URL'})`);
      }
      deps.metrics?.onLoad('success', list?.size ?? 0);
      lifecycle = 'serving';
      source.watch(() => void reload());
      return {
        async serverWillStop() {
          lifecycle = 'stopped';
          source.close();
        },
      };
    },

    async requestDidStart(rc) {
      const current = list;
      if (current === undefined) return;
      const ctx = rc.contextValue;
      const principal = ctx.principal;
      const bypass = options.bypassScope !== undefined && principal.kind === 'user' && principal.scopes.includes(options.bypassScope);
      // Synchronous up to here: Apollo Server reads `query` and `extensions` once every plugin's
      // requestDidStart has resolved, so a listed id becomes its text before APQ looks at it.
      const fromList = resolveListedId(rc.request, current);
      return {
        async didResolveOperation({ document, queryHash }) {
          if (fromList === 'unknown-document-id') {
            // No text to run anywhere, in any mode (APQ never stores by documentId).
            throw refuse(ctx, `document id "${clientInputPrefix(documentIdOf(rc.request) ?? '')}" is not in the trusted documents list`);
          }
          const listed = fromList === 'resolved' || current.hasTextHash(queryHash) || current.hasDocument(document);
          if (listed) return note(ctx, 'listed');
          if (bypass) return note(ctx, 'bypass');
          if (options.mode === 'log') return note(ctx, 'unlisted');
          throw refuse(
            ctx,
            'this operation is not in the trusted documents list: only the operations of published apps run here. Send its id (extensions.persistedQuery.sha256Hash or documentId), or use a token with the developer scope',
          );
        },
      };
    },

    reload,
    state() {
      return { mode: options.mode, source: source?.description, operations: list?.size ?? 0, hash, lastRejection };
    },
  };
}

/** Why a list was not loaded, for the log line and the start-up error. */
function reasonOf(err: unknown): string {
  return err instanceof TrustedDocumentsManifestError ? `invalid manifest: ${err.message}` : (err as Error).message;
}

/** The request is at fault: it asked for an operation this gateway does not run. */
export const TRUSTED_DOCUMENTS_HTTP_STATUS = 400;

function sourceFor(options: TrustedDocumentsOptions): ManifestSource | undefined {
  if (options.mode === 'off') return undefined;
  if ((options.file === undefined) === (options.url === undefined)) {
    throw new Error(`trusted documents in ${options.mode} mode need exactly one of file and url`);
  }
  if (options.file !== undefined) {
    return createFileManifestSource({ path: options.file, debounceMs: options.debounceMs ?? DEFAULT_TRUSTED_DOCUMENTS_DEBOUNCE_MS });
  }
  return createUrlManifestSource({
    url: options.url!,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_TRUSTED_DOCUMENTS_POLL_MS,
    timeoutMs: options.fetchTimeoutMs ?? DEFAULT_TRUSTED_DOCUMENTS_FETCH_TIMEOUT_MS,
    maxBytes: options.maxBytes ?? DEFAULT_TRUSTED_DOCUMENTS_MAX_BYTES,
  });
}

/** Parses and validates against any schema; never executed (refused in didResolveOperation). */
const UNKNOWN_DOCUMENT_PLACEHOLDER = '{ __typename }';

/** Top-level `documentId` of a POST body, or the `documentId` query parameter of a GET. */
function documentIdOf(request: GraphQLRequest): string | undefined {
  const http = request.http;
  if (http === undefined) return undefined;
  if (http.method === 'GET') return new URLSearchParams(http.search).get('documentId') ?? undefined;
  const body = http.body as { documentId?: unknown } | null | undefined;
  return typeof body === 'object' && body !== null && typeof body.documentId === 'string' ? body.documentId : undefined;
}

/**
 * Replaces a listed id with its text, dropping the APQ extension so Apollo Server neither looks
 * the id up nor checks it against the text (Relay ids are not sha256 hashes). Ids the list does
 * not know are left to APQ (`persistedQuery`) or refused (`documentId`: nothing else has it).
 */
function resolveListedId(request: GraphQLRequest, list: TrustedDocumentList): 'resolved' | 'unknown-document-id' | 'not-by-id' {
  const documentId = documentIdOf(request);
  const persisted = request.extensions?.['persistedQuery'] as { sha256Hash?: unknown } | undefined;
  const hash = typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : undefined;
  const id = documentId ?? (request.query === undefined ? hash : undefined);
  if (id === undefined) return 'not-by-id';
  const text = list.lookup(id);
  if (text === undefined && documentId !== undefined && request.query === undefined) {
    // Apollo Server answers a request without text 400 BAD_REQUEST ("must contain a query"),
    // and a plugin error thrown before parsing becomes a 500. A placeholder that runs nothing
    // carries the request to didResolveOperation, where the refusal is a coded 400.
    request.query = UNKNOWN_DOCUMENT_PLACEHOLDER;
    return 'unknown-document-id';
  }
  if (text === undefined) return 'not-by-id';
  request.query = text;
  if (persisted !== undefined) {
    const { persistedQuery: _dropped, ...rest } = request.extensions ?? {};
    request.extensions = rest;
  }
  return 'resolved';
}
