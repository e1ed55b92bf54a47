/**
 * Progress of a long command (reconcile --fix, rebuild, sync), on stderr so stdout keeps the report:
 * on a terminal one line rewritten in place; otherwise (cron, a pipe, a log file) a plain line now
 * and then, which a file or cron's mail holds without carriage returns. Plain lines rather than
 * log records: the report commands log at warn, and these lines are what the person waits for.
 */
export interface Progress {
  /** Stops and clears the line; safe to call twice. */
  stop(): void;
}

export interface ProgressOptions {
  readonly label: string;
  /** What to show now, e.g. "37/150 payments checked"; called on every tick. */
  readonly render: () => string;
  readonly stream?: NodeJS.WriteStream;
  /** Between two rewrites of the terminal line. */
  readonly ttyIntervalMs?: number;
  /** Between two log lines otherwise. */
  readonly logIntervalMs?: number;
  readonly now?: () => number;
}

export function startProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const started = now();
  const elapsed = () => `${Math.round((now() - started) / 1000)}s`;
  const tty = stream.isTTY === true;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const text = `${options.label}: ${options.render()} (${elapsed()})`;
    if (tty) {
      // \r and "erase line", cut to the terminal's width so the line never wraps.
      const width = stream.columns ?? 120;
      stream.write(`\r\x1b[2K${text.slice(0, Math.max(20, width - 1))}`);
    } else stream.write(`${new Date(now()).toISOString()} ${text}\n`);
  };
  const timer = setInterval(tick, tty ? (options.ttyIntervalMs ?? 250) : (options.logIntervalMs ?? 10_000));
  timer.unref();
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (tty) stream.write('\r\x1b[2K');
    },
  };
}
