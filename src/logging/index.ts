import pino, { type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Extra fixed fields on every line (e.g. `instance`). */
  base?: Record<string, unknown>;
}

/**
 * Lines are written in batches of at least this many bytes (about ten access lines), so a busy
 * gateway makes one write to stdout per ten requests instead of one each, and makes it
 * synchronously (pino's default): the asynchronous writer handed every line to libuv's thread
 * pool, and the two together cost ~2 % of a request's CPU at `info`. pino flushes the buffer
 * when the process exits (also after SIGTERM's drain); a SIGKILL loses at most this much.
 */
const LOG_BUFFER_BYTES = 4_096;
/** ...and at least this often, ms, so a quiet gateway's lines are never held back for long. */
const LOG_FLUSH_MS = 250;

/**
 * The one structured logger. JSON lines on stdout; every other module takes it (or a child)
 * as a dependency. Secrets never get here: no log line carries request headers (pino's
 * `redact` was dropped for that reason: it cost ~2 % of CPU on every line of the hot path).
 */
export function createLogger(options: LoggerOptions, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'portico', ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ sync: true, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS }),
  );
}
