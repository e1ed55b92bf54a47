import winston from 'winston';

/**
 * winston with redaction placed first: secrets are removed by key (password, apiKey, …) and by
 * value (every configured secret), wherever they appear, before any transport sees the record.
 */

export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  child(meta: Record<string, unknown>): Logger;
}

const SECRET_KEY = /pass(word)?|secret|api[-_]?key|token|authorization|cookie/i;
const REDACTED = '[redacted]';

export class Redactor {
  private values: string[] = [];

  addSecrets(values: Iterable<string>): void {
    for (const value of values)
      if (value.length >= 4 && !this.values.includes(value)) this.values.push(value);
    // Longest first so a secret that contains another is removed whole.
    this.values.sort((a, b) => b.length - a.length);
  }

  text(input: string): string {
    let output = input;
    for (const value of this.values) output = output.split(value).join(REDACTED);
    return output;
  }

  value(input: unknown, depth = 0): unknown {
    if (typeof input === 'string') return this.text(input);
    if (depth > 6 || input === null || typeof input !== 'object') return input;
    if (input instanceof Error) {
      return { name: input.name, message: this.text(input.message) };
    }
    if (Array.isArray(input)) return input.map((entry) => this.value(entry, depth + 1));
    const output: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(input)) {
      output[key] = SECRET_KEY.test(key) ? REDACTED : this.value(entry, depth + 1);
    }
    return output;
  }
}

export const redactor = new Redactor();

const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level') continue;
    info[key] = SECRET_KEY.test(key) ? REDACTED : redactor.value(info[key]);
  }
  return info;
});

const pretty = winston.format.printf((info) => {
  const { level, message, timestamp, ...rest } = info;
  const meta = Object.entries(rest)
    .filter(([key]) => typeof key === 'string')
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${String(timestamp)} ${level} ${String(message)}${meta ? `  ${meta}` : ''}`;
});

export interface LogOptions {
  level: 'error' | 'warn' | 'info' | 'debug';
  format: 'pretty' | 'json';
  /** Extra destination, used by tests to capture records. */
  stream?: NodeJS.WritableStream;
}

export function createLogger(options: LogOptions): Logger & { close(): Promise<void> } {
  const format =
    options.format === 'json'
      ? winston.format.combine(redact(), winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          redact(),
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.colorize({ level: process.stdout.isTTY === true }),
          pretty,
        );
  const transports: winston.transport[] = [
    options.stream
      ? new winston.transports.Stream({ stream: options.stream })
      : new winston.transports.Console(),
  ];
  const root = winston.createLogger({ level: options.level, format, transports });
  return Object.assign(wrap(root), {
    close: () =>
      new Promise<void>((resolve) => {
        root.on('finish', () => resolve());
        root.end();
        setTimeout(resolve, 500).unref();
      }),
  });
}

function wrap(logger: winston.Logger): Logger {
  return {
    error: (message, meta) => logger.error(message, meta),
    warn: (message, meta) => logger.warn(message, meta),
    info: (message, meta) => logger.info(message, meta),
    debug: (message, meta) => logger.debug(message, meta),
    child: (meta) => wrap(logger.child(meta)),
  };
}

/** A logger that drops everything, for library use and tests that do not look at logs. */
export const silentLogger: Logger = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: () => {},
  child: () => silentLogger,
};
