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
  /**
   * Where records go: a stream (tests; the CLI's stderr), or 'split', the daemon's: info and
   * debug to stdout, warnings and errors to stderr, so PM2's and systemd's error logs hold only
   * what needs a look.
   */
  stream?: NodeJS.WritableStream | 'split';
}

/**
 * Colour codes only for a terminal, and never with NO_COLOR set (https://no-color.org): in a pipe,
 * a file or PM2's log they are noise.
 */
export function colourFor(
  stream: NodeJS.WritableStream | 'split' | undefined,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const isTTY = (target: unknown) => (target as { isTTY?: boolean } | undefined)?.isTTY === true;
  if (stream === 'split') return isTTY(process.stdout) && isTTY(process.stderr);
  return isTTY(stream ?? process.stdout);
}

export function createLogger(options: LogOptions): Logger & { close(): Promise<void> } {
  const format =
    options.format === 'json'
      ? winston.format.combine(redact(), winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          redact(),
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          // Left out rather than given level: false, which logform's colorize ignores.
          ...(colourFor(options.stream) ? [winston.format.colorize({ level: true })] : []),
          pretty,
        );
  const transports: winston.transport[] = [
    options.stream === 'split'
      ? new winston.transports.Console({ stderrLevels: ['error', 'warn'] })
      : options.stream
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
