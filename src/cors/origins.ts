/**
 * Which browser origins may read Portico's answers: the syntax of a configured entry, the
 * development default and the match of a request's `Origin`. Pure: config validates entries
 * with it at start, the CORS hook (./hook.ts) matches with it per request.
 */

/**
 * Origins allowed outside production when PORTICO_CORS_ORIGINS is unset: local front ends on any
 * port, and Apollo Studio / embedded Sandbox (they call the graph from the browser).
 */
export const DEFAULT_DEV_CORS_ORIGINS: readonly string[] = Object.freeze([
  'http://localhost:*',
  'http://127.0.0.1:*',
  'http://[::1]:*',
  'https://studio.apollographql.com',
  'https://sandbox.embed.apollographql.com',
]);

/** `scheme://host:*`: any port (or none) on that host. */
const PORT_WILDCARD = /^(https?):\/\/([^/:]+|\[[0-9a-fA-F:.]+\]):\*$/;

/**
 * Checks one configured origin: `*`, an exact origin (`https://app.example.com`, no path), or a
 * port wildcard (`http://localhost:*`). Returns a problem text or `undefined`.
 */
export function checkCorsOrigin(entry: string): string | undefined {
  if (entry === '*' || PORT_WILDCARD.test(entry)) return undefined;
  // Subdomain wildcards are not offered: one hijacked subdomain would be granted with the rest.
  if (entry.includes('*')) return `${JSON.stringify(entry)}: a wildcard is allowed only as * or scheme://host:*`;
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return `${JSON.stringify(entry)} is not an origin (expected scheme://host[:port], scheme://host:* or *)`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${JSON.stringify(entry)} must be http or https`;
  // An origin has no path, query or credentials; `https://a.example/` is tolerated as a typing habit.
  if (url.origin !== entry.replace(/\/$/, '')) return `${JSON.stringify(entry)} is not a bare origin (no path, query or upper case)`;
  return undefined;
}

/** True when `origin` (the request's `Origin` header) matches one configured entry. Pure. */
export function isOriginAllowed(origin: string, allowed: readonly string[]): boolean {
  // `null` is what sandboxed iframes and file:// pages send: never a trustworthy caller.
  if (origin === 'null') return false;
  for (const entry of allowed) {
    if (entry === '*') return true;
    const wildcard = PORT_WILDCARD.exec(entry);
    if (wildcard) {
      const prefix = `${wildcard[1]}://${wildcard[2]!.toLowerCase()}`;
      if (origin === prefix || (origin.startsWith(`${prefix}:`) && /^\d{1,5}$/.test(origin.slice(prefix.length + 1)))) return true;
    } else if (origin === entry.replace(/\/$/, '')) {
      return true;
    }
  }
  return false;
}

