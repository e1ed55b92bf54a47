import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';

export interface Job {
  readonly name: string;
  /** Cron expression (5 or 6 fields). */
  readonly schedule: string;
  readonly run: () => Promise<unknown>;
}

/**
 * node-cron only starts passes; each pass is guarded so it never overlaps itself (also when
 * triggered by hand), and stop() waits for the passes in flight before returning.
 */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly log: Logger,
    private readonly timezone: string,
  ) {}

  add(job: Job): void {
    const task = cron.createTask(job.schedule, () => this.trigger(job), {
      name: job.name,
      noOverlap: true,
      timezone: this.timezone,
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
    if (inFlight) return inFlight;
    const run = job
      .run()
      .then(
        () => undefined,
        (error: unknown) => {
          this.log.error(
            `${job.name} pass failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        },
      )
      .finally(() => this.running.delete(job.name));
    this.running.set(job.name, run);
    return run;
  }

  /** Stops the schedules, then waits for the passes in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.tasks.map((task) => task.stop()));
    await Promise.all(this.tasks.map((task) => task.destroy()));
    await Promise.all([...this.running.values()]);
  }
}

export function isValidCron(expression: string): boolean {
  return cron.validate(expression);
}
