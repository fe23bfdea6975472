/**
 * Client input inside error messages, bounded. A message may name what the client sent so a
 * developer can find it, but never carry it whole: a 100 KB operation name echoed back turns
 * every refusal into an amplifier, and control characters in it reach terminals and log viewers.
 * Pure.
 */

/** Longest piece of client input a message quotes, in characters; names are far shorter. */
export const MAX_ECHOED_INPUT_CHARS = 64;

/**
 * Longest message sent to a client, in characters. graphql-js messages quote several pieces of
 * input (`Variable "$x" got invalid value "…"; …`); with each piece bounded they stay well below.
 */
export const MAX_CLIENT_MESSAGE_CHARS = 1_024;

/**
 * C0 and C1 controls, DEL, line/paragraph separators and bidirectional overrides: characters that
 * change how the surrounding text is displayed rather than adding to it.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** A double-quoted segment of a message, backslash escapes included (graphql-js quotes input this way). */
const QUOTED = /"((?:[^"\\]|\\.)*)"/g;

/**
 * At most `maxChars` characters of `input`, control characters shown as `?`, and `…` when cut.
 * Never splits a surrogate pair.
 */
export function clientInputPrefix(input: string, maxChars: number = MAX_ECHOED_INPUT_CHARS): string {
  // Only the head is looked at: the cost does not grow with the input.
  const head = Array.from(input.slice(0, maxChars * 2 + 2)).slice(0, maxChars + 1);
  const cut = head.length > maxChars;
  return head.slice(0, maxChars).join('').replace(CONTROL, '?') + (cut ? '…' : '');
}

/**
 * A message fit for a client: control characters shown as `?`, every quoted segment cut to
 * {@link MAX_ECHOED_INPUT_CHARS}, and the whole to {@link MAX_CLIENT_MESSAGE_CHARS}.
 */
export function boundClientMessage(message: string): string {
  let out = message.replace(CONTROL, '?');
  if (out.length > MAX_ECHOED_INPUT_CHARS + 2) {
    out = out.replace(QUOTED, (whole, inner: string) => {
      if (inner.length <= MAX_ECHOED_INPUT_CHARS) return whole;
      // A cut escape (`\`) at the end would swallow the closing quote.
      return `"${inner.slice(0, MAX_ECHOED_INPUT_CHARS).replace(/\\+$/, (b) => (b.length % 2 === 0 ? b : b.slice(0, -1)))}…"`;
    });
  }
  if (out.length <= MAX_CLIENT_MESSAGE_CHARS) return out;
  // Not between the halves of a surrogate pair.
  const end = /[\ud800-\udbff]/.test(out.charAt(MAX_CLIENT_MESSAGE_CHARS - 1)) ? MAX_CLIENT_MESSAGE_CHARS - 1 : MAX_CLIENT_MESSAGE_CHARS;
  return `${out.slice(0, end)}…`;
}
