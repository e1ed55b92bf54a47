import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { colourFor, createLogger } from './log.js';

function terminal(isTTY: boolean): PassThrough & { isTTY: boolean } {
  return Object.assign(new PassThrough(), { isTTY });
}

describe('colour in pretty logs', () => {
  it('only on a terminal, and never with NO_COLOR set', () => {
    expect(colourFor(terminal(true), {})).toBe(true);
    expect(colourFor(terminal(true), { NO_COLOR: '1' })).toBe(false);
    expect(colourFor(terminal(true), { NO_COLOR: '' })).toBe(true);
    expect(colourFor(terminal(false), {})).toBe(false);
  });

  it('writes no escape codes into a stream that is not a terminal', async () => {
    const pipe = terminal(false);
    let text = '';
    pipe.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const log = createLogger({ level: 'info', format: 'pretty', stream: pipe });
    log.warn('journal 7 is a sale journal');
    await log.close();
    expect(text).toContain('warn journal 7 is a sale journal');
    expect(text).not.toContain('\x1b[');
  });
});
