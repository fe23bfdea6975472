/**
 * Reading a fetched body without trusting its size: the JWKS and the supergraph registry are
 * remote parties, and a body larger than what we accept is refused as it streams, never buffered
 * whole first. `tooLarge` makes the caller's own error (its message names its setting).
 */
export async function readBodyCapped(res: Response, maxBytes: number, tooLarge: (declaredBytes: number | undefined) => Error): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(declared);
  }
  const reader = res.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(undefined);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
