/** Progress lines on stdout, stamped with the time since the harness started (`[mm:ss]`). */
const startedAt = Date.now();

export function progress(message: string): void {
  const s = Math.floor((Date.now() - startedAt) / 1000);
  process.stdout.write(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${message}\n`);
}
