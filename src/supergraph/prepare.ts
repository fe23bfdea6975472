import { holdOneByteNames } from './names.ts';

/**
 * Security features Portico enforces itself (src/authorization). `@apollo/gateway` refuses any
 * supergraph that links a `for: SECURITY` feature it does not implement, which these are; we
 * keep the links and directives (our authorization reads them) and drop only the purpose, so
 * the gateway plans the graph while Portico does the enforcing.
 */
const ENFORCED_BY_PORTICO = ['authenticated', 'requiresScopes', 'policy'];

const LINK_RE = new RegExp(
  String.raw`(@link\(\s*url:\s*"https://specs\.apollo\.dev/(?:${ENFORCED_BY_PORTICO.join('|')})/v[0-9.]+")\s*,\s*for:\s*SECURITY(\s*\))`,
  'g',
);

/**
 * The SDL the gateway is given. Every path that hands a supergraph to the gateway comes through
 * here, so this is also where its names are entered one byte a character (./names.ts).
 */
export function prepareForGateway(sdl: string): string {
  holdOneByteNames(sdl);
  return sdl.replace(LINK_RE, '$1$2');
}
