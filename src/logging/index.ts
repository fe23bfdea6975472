import pino, { type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Extra fixed fields on every line (e.g. `instance`). */
  base?: Record<string, unknown>;
}

/**
 * The one structured logger. JSON lines on stdout; every other module takes it (or a child)
 * as a dependency. Secrets never get here: the `authorization` header is redacted anyway.
 */
export function createLogger(options: LoggerOptions, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'portico', ...options.base },
      redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.authorization'], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ sync: false }),
  );
}
