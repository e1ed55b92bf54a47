import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { Logger } from '../log.js';
import { Scheduler } from './scheduler.js';

interface Record {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
}

function recordingLogger(): Logger & { records: Record[] } {
  const records: Record[] = [];
  const logger: Logger & { records: Record[] } = {
    records,
    error: (message) => records.push({ level: 'error', message }),
    warn: (message) => records.push({ level: 'warn', message }),
    info: (message) => records.push({ level: 'info', message }),
    debug: (message) => records.push({ level: 'debug', message }),
    child: () => logger,
  };
  return logger;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await sleep(20);
  }
}

/** Everything that could print raw: the process streams and the console (vitest replaces it). */
let raw: MockInstance[] = [];

beforeEach(() => {
  raw = [
    vi.spyOn(process.stdout, 'write'),
    vi.spyOn(process.stderr, 'write'),
    ...(['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((method) =>
      vi.spyOn(console, method),
    ),
  ];
});

afterEach(() => {
  vi.restoreAllMocks();
});

function rawOutput(): unknown[] {
  return raw.flatMap((spy) => spy.mock.calls);
}

describe('Scheduler', () => {
  it('skips the ticks of a pass slower than its schedule, says so once through our logger, and prints nothing raw', async () => {
    const log = recordingLogger();
    const scheduler = new Scheduler(log, 'UTC');
    let runs = 0;
    let release: () => void = () => {};
    scheduler.add({
      name: 'publish',
      schedule: '* * * * * *',
      run: () => {
        runs += 1;
        return runs === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
      },
    });
    const skips = () => log.records.filter((record) => record.message.includes('skipping this tick'));
    scheduler.start();
    try {
      await until(() => runs === 1);
      await until(() => skips().length === 1);
      // Two more ticks come while the first pass still runs: skipped, not logged again.
      await sleep(2_100);
      expect(runs).toBe(1);
      expect(skips()).toHaveLength(1);
      expect(skips()[0]).toMatchObject({ level: 'warn' });
      expect(skips()[0]?.message).toMatch(/^publish pass still running after \d+\.\d s; skipping this tick/);
      release();
      await until(() => runs === 2);
    } finally {
      release();
      await scheduler.stop();
    }
    expect(log.records.map((record) => record.message)).toContainEqual(
      expect.stringMatching(/^publish pass finished after .*; [23] scheduled tick\(s\) were skipped/),
    );
    expect(rawOutput()).toEqual([]);
  }, 15_000);

  it("forwards node-cron's own warnings (a missed execution) to our logger instead of the console", async () => {
    const log = recordingLogger();
    const scheduler = new Scheduler(log, 'UTC');
    let runs = 0;
    scheduler.add({
      name: 'publish',
      schedule: '* * * * * *',
      run: () => {
        runs += 1;
        // A pass that holds the event loop past the next tick, as a CPU-bound one would.
        if (runs === 1) for (const end = Date.now() + 2_300; Date.now() < end; );
        return Promise.resolve();
      },
    });
    scheduler.start();
    try {
      await until(() => log.records.some((record) => record.message.includes('missed execution')));
    } finally {
      await scheduler.stop();
    }
    expect(log.records).toContainEqual({
      level: 'warn',
      message: expect.stringMatching(/^node-cron: missed execution at /),
    });
    expect(rawOutput()).toEqual([]);
  }, 15_000);

  it('hands a pass already running to a trigger by hand, without a skip message', async () => {
    const log = recordingLogger();
    const scheduler = new Scheduler(log, 'UTC');
    let release: () => void = () => {};
    let runs = 0;
    const job = {
      name: 'confirm',
      schedule: '0 0 1 1 *',
      run: () => {
        runs += 1;
        return new Promise<void>((resolve) => (release = resolve));
      },
    };
    const first = scheduler.trigger(job);
    const second = scheduler.trigger(job);
    expect(runs).toBe(1);
    release();
    await Promise.all([first, second]);
    await scheduler.stop();
    expect(log.records).toEqual([]);
    expect(rawOutput()).toEqual([]);
  });
});
