import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { type SmtpCapture, startSmtpCapture } from './capture.js';

let capture: SmtpCapture | undefined;

afterEach(async () => {
  await capture?.close();
  if (capture) rmSync(capture.dir, { recursive: true, force: true });
  capture = undefined;
});

describe('startSmtpCapture', () => {
  it('writes each accepted message as an .eml file and refuses @reject.invalid with 550', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'paylink-capture-')), 'mail');
    capture = await startSmtpCapture({ dir, port: 0, host: '127.0.0.1' });
    expect(capture.port).toBeGreaterThan(0);
    const transporter = nodemailer.createTransport({ host: capture.host, port: capture.port, secure: false });
    try {
      await transporter.sendMail({ from: 'a@x.dz', to: 'b@y.dz', subject: 'first', text: 'one' });
      await transporter.sendMail({ from: 'a@x.dz', to: 'c@y.dz', subject: 'second', text: 'two' });
      const refused = await transporter
        .sendMail({ from: 'a@x.dz', to: 'nobody@reject.invalid', subject: 'x', text: 'x' })
        .then(
          () => null,
          (e: { responseCode?: number; response?: string }) => e,
        );
      expect(refused?.responseCode).toBe(550);
      expect(refused?.response).toContain('User unknown');
    } finally {
      transporter.close();
    }
    const files = await capture.messages();
    expect(files.map((f) => basename(f))).toEqual([
      expect.stringMatching(/^\d+-000001\.eml$/),
      expect.stringMatching(/^\d+-000002\.eml$/),
    ]);
    expect(readFileSync(files[0]!, 'utf8')).toContain('Subject: first');
    expect(readFileSync(files[1]!, 'utf8')).toContain('Subject: second');
  });
});
