import cron, { type Logger as CronLogger, type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';

export interface Job {
  readonly name: string;
  /** Cron expression (5 or 6 fields). */
  readonly schedule: string;
  readonly run: () => Promise<unknown>;
}

interface Run {
  readonly done: Promise<void>;
  readonly startedAt: number;
  /** Ticks that came while this run was still going. */
  skipped: number;
}

/**
 * node-cron only starts passes; each pass is guarded here so it never overlaps itself (also when
 * triggered by hand), and stop() waits for the passes in flight before returning.
 *
 * node-cron's own noOverlap is not used, and it is handed a logger that forwards to ours: it
 * prints its warnings (overlap, missed executions) raw to the console otherwise, which breaks
 * the one-JSON-object-per-line contract of `--log-format json`.
 */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  private readonly running = new Map<string, Run>();
  private readonly cronLog: CronLogger;
  private stopped = false;

  constructor(
    private readonly log: Logger,
    private readonly timezone: string,
    private readonly now: () => number = Date.now,
  ) {
    const text = (message: string | Error) =>
      `node-cron: ${message instanceof Error ? message.message : message}`;
    const meta = (error: Error | undefined) => (error ? { error } : undefined);
    this.cronLog = {
      info: (message) => log.info(text(message)),
      warn: (message) => log.warn(text(message)),
      error: (message, error) => log.error(text(message), meta(error)),
      debug: (message, error) => log.debug(text(message), meta(error)),
    };
  }

  add(job: Job): void {
    const task = cron.createTask(job.schedule, () => this.tick(job), {
      name: job.name,
      timezone: this.timezone,
      logger: this.cronLog,
    });
    this.tasks.push(task);
  }

  start(): void {
    for (const task of this.tasks) void task.start();
  }

  /** Runs a job now unless it is already running; resolves when that run ends. */
  trigger(job: Job): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const inFlight = this.running.get(job.name);
    if (inFlight) return inFlight.done;
    const startedAt = this.now();
    const done = job
      .run()
      .then(
        () => undefined,
        (error: unknown) => {
          this.log.error(
            `${job.name} pass failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        },
      )
      .finally(() => {
        const run = this.running.get(job.name);
        this.running.delete(job.name);
        if (run && run.skipped > 0) {
          this.log.info(
            `${job.name} pass finished after ${seconds(this.now() - startedAt)}; ${run.skipped} scheduled tick(s) were skipped while it ran, the next one runs it again`,
            { job: job.name, skippedTicks: run.skipped },
          );
        }
      });
    this.running.set(job.name, { done, startedAt, skipped: 0 });
    return done;
  }

  /**
   * A scheduled tick: starts the job, or skips the tick when the previous run is still going,
   * saying so once per overrun. Returns at once, so node-cron never sees a run in progress.
   */
  private tick(job: Job): void {
    if (this.stopped) return;
    const inFlight = this.running.get(job.name);
    if (!inFlight) {
      void this.trigger(job);
      return;
    }
    inFlight.skipped += 1;
    if (inFlight.skipped === 1) {
      this.log.warn(
        `${job.name} pass still running after ${seconds(this.now() - inFlight.startedAt)}; skipping this tick (and any more until it ends)`,
        { job: job.name },
      );
    }
  }

  /** Stops the schedules, then waits for the passes in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.tasks.map((task) => task.stop()));
    await Promise.all(this.tasks.map((task) => task.destroy()));
    await Promise.all([...this.running.values()].map((run) => run.done));
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function isValidCron(expression: string): boolean {
  return cron.validate(expression);
}
