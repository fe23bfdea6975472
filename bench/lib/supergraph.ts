/**
 * Points a committed supergraph at subgraphs on run-time ports. Every gateway then loads the same
 * rewritten file, so none of them depends on its own URL-override mechanism.
 */

const JOIN_GRAPH = /@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g;

/**
 * Replaces each `@join__graph(name:, url:)` URL with `urls[name]`.
 * @throws when a subgraph of the supergraph has no URL, or a URL names no subgraph.
 */
export function withSubgraphUrls(supergraphSdl: string, urls: Readonly<Record<string, string>>): string {
  const seen = new Set<string>();
  const rewritten = supergraphSdl.replace(JOIN_GRAPH, (_match, name: string) => {
    const url = urls[name];
    if (url === undefined) throw new Error(`supergraph subgraph "${name}" has no URL (have: ${Object.keys(urls).join(', ')})`);
    seen.add(name);
    return `@join__graph(name: "${name}", url: "${url}")`;
  });
  const unused = Object.keys(urls).filter((n) => !seen.has(n));
  if (unused.length > 0) throw new Error(`no subgraph named ${unused.join(', ')} in the supergraph`);
  return rewritten;
}

/** `name=url,name=url`, the format of PORTICO_SUBGRAPH_URLS. */
export function formatUrlOverrides(urls: Readonly<Record<string, string>>): string {
  return Object.entries(urls)
    .map(([name, url]) => `${name}=${url}`)
    .join(',');
}

// Authorization features linked `for: SECURITY`. @apollo/gateway refuses to load a supergraph
// that links a SECURITY feature it does not implement, and it implements none of these.
const SECURITY_LINK = /(@link\(\s*url:\s*"https:\/\/specs\.apollo\.dev\/(?:authenticated|requiresScopes|policy)\/v[0-9.]+")\s*,\s*for:\s*SECURITY(\s*\))/g;

/**
 * The one supergraph every gateway loads: the `for: SECURITY` purpose is dropped from the
 * authorization links (links and directives stay), so the bare @apollo/gateway can load the demo
 * graph at all. Portico's own loader does the same; Hive Gateway accepts either. No benchmark
 * operation touches a field those directives guard.
 */
export function forEveryGateway(supergraphSdl: string): string {
  return supergraphSdl.replace(SECURITY_LINK, '$1$2');
}
