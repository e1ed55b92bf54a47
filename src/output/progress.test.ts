import { afterEach, describe, expect, it, vi } from 'vitest';
import { startProgress } from './progress.js';

function stream(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  let written = '';
  return Object.assign(
    {
      isTTY,
      columns: 60,
      write(chunk: string) {
        written += chunk;
        return true;
      },
    } as unknown as NodeJS.WriteStream,
    { text: () => written },
  );
}

afterEach(() => {
  vi.useRealTimers();
});

describe('progress of a long command', () => {
  it('rewrites one line in place on a terminal and clears it at the end', () => {
    vi.useFakeTimers();
    const terminal = stream(true);
    let done = 0;
    const progress = startProgress({
      label: 'reconcile --fix',
      render: () => `${done}/150`,
      stream: terminal,
    });
    done = 37;
    vi.advanceTimersByTime(250);
    done = 80;
    vi.advanceTimersByTime(250);
    progress.stop();
    progress.stop();
    expect(terminal.text()).toBe(
      '\r\x1b[2Kreconcile --fix: 37/150 (0s)\r\x1b[2Kreconcile --fix: 80/150 (1s)\r\x1b[2K',
    );
  });

  it('writes a plain line now and then elsewhere (cron, a pipe), with no control codes', () => {
    vi.useFakeTimers({ now: new Date('2026-12-04T03:00:00Z') });
    const pipe = stream(false);
    const progress = startProgress({ label: 'rebuild', render: () => '12 links new', stream: pipe });
    vi.advanceTimersByTime(9_999);
    expect(pipe.text()).toBe('');
    vi.advanceTimersByTime(20_001);
    progress.stop();
    expect(pipe.text()).toBe(
      '2026-12-04T03:00:10.000Z rebuild: 12 links new (10s)\n2026-12-04T03:00:20.000Z rebuild: 12 links new (20s)\n2026-12-04T03:00:30.000Z rebuild: 12 links new (30s)\n',
    );
  });
});
