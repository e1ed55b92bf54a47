import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, Redactor, redactor } from './log.js';

describe('redaction', () => {
  it('removes configured secret values anywhere in a record', async () => {
    redactor.addSecrets(['s3cr3t-api-key']);
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    const log = createLogger({ level: 'debug', format: 'json', stream });
    log.info('calling with s3cr3t-api-key inside', {
      nested: { url: 'https://x/?k=s3cr3t-api-key', list: ['s3cr3t-api-key'] },
      apiSecret: 'anything',
      error: new Error('refused key s3cr3t-api-key'),
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const output = chunks.join('');
    expect(output).toContain('calling with [redacted] inside');
    expect(output).not.toContain('s3cr3t-api-key');
    expect(output).not.toContain('anything');
    expect(JSON.parse(output.trim().split('\n')[0]!).error.message).toBe('refused key [redacted]');
  });

  it('redacts secret-looking keys even with unknown values', () => {
    const local = new Redactor();
    expect(
      local.value({ password: 'x', headers: { Authorization: 'Bearer y', 'X-API-KEY': 'z' }, ok: 1 }),
    ).toEqual({
      password: '[redacted]',
      headers: { Authorization: '[redacted]', 'X-API-KEY': '[redacted]' },
      ok: 1,
    });
  });

  it('removes the longest secret first', () => {
    const local = new Redactor();
    local.addSecrets(['abcd', 'abcdefgh']);
    expect(local.text('x abcdefgh y')).toBe('x [redacted] y');
  });
});
