import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { formatStatus } from '../../src/output/status.js';
import { captureSmtpConfig, type SmtpCapture, startSmtpCapture } from '../../src/sandbox/smtp/capture.js';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let smtp: SmtpCapture;

afterEach(async () => {
  await smtp?.close();
  await stack?.close();
});

async function withMail(): Promise<Stack> {
  smtp = await startSmtpCapture({
    dir: path.join(process.env.TMPDIR ?? '/tmp', `paylink-mail-${process.pid}-${Date.now()}`),
  });
  stack = await startStack({
    config: {
      mail: {
        enabled: true,
        via: 'smtp',
        attachPdf: true,
        pdfTimeoutMs: 5_000,
        smtp: captureSmtpConfig(smtp, '"Test SARL" <billing@test.example.com>'),
      },
    },
  });
  return stack;
}

async function parsedMessages() {
  const files = await smtp.messages();
  return Promise.all(files.map(async (file) => simpleParser(readFileSync(file))));
}

const ready = (): Promise<App> => stack.readyApp();

describe('invoice emails through the pipeline', () => {
  it('emails each new link once, in the partner language, with the link, QR and PDF', async () => {
    await withMail();
    const ids = stack.createInvoices(3);
    const app = await ready();
    await app.pipeline.publish();
    await app.mail!.runOnce();
    // More passes and worker runs send nothing new.
    await app.pipeline.publish();
    await app.pipeline.confirm();
    await app.mail!.runOnce();
    const messages = await parsedMessages();
    expect(messages).toHaveLength(3);
    for (const id of ids) {
      const slug = `${stack.prefix}-inv-${id}-1`;
      const message = messages.find((candidate) => candidate.text?.includes(`/pay/${slug}`));
      expect(message, slug).toBeDefined();
      expect(message?.to && 'text' in message.to ? message.to.text : '').toContain('one@example.com');
      // The stack's partner speaks French.
      expect(message?.subject).toMatch(/Facture/);
      expect(message?.html).toContain(`${stack.mytpe.url}/pay/${slug}`);
      // The company presents itself with its name and contact from res.company.
      expect(message?.html).toContain('Test SARL');
      expect(message?.html).toContain('billing@test-sarl.example.com');
      const pdf = message?.attachments.find((attachment) => attachment.contentType === 'application/pdf');
      expect(pdf?.content.subarray(0, 4).toString()).toBe('%PDF');
      expect(
        message?.attachments.some((attachment) => attachment.contentType === 'image/png' && attachment.cid),
      ).toBe(true);
    }
    expect(app.mail!.outbox.countsByState().sent).toBe(3);
  });

  it('queues the email with the link: a crash before sending still sends it once after restart', async () => {
    await withMail();
    stack.createInvoices(2);
    const crashed = await ready();
    await crashed.pipeline.publish();
    expect(crashed.mail!.outbox.countsByState().queued).toBe(2);
    crashed.close();
    const restarted = stack.app();
    await restarted.mail!.runOnce();
    await restarted.pipeline.publish();
    await restarted.mail!.runOnce();
    expect(await smtp.messages()).toHaveLength(2);
  });

  it('queues nothing when the link was never recorded (crash right after the gateway answered)', async () => {
    await withMail();
    stack.createInvoices(1);
    const app = await ready();
    let calls = 0;
    const dying = stack.app({
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        const url = String(input instanceof Request ? input.url : input);
        calls++;
        if (url.includes('/links/store')) {
          dying.close();
          throw new Error('crashed');
        }
        return response;
      },
    });
    await dying.pipeline.publish().catch(() => undefined);
    expect(calls).toBeGreaterThan(0);
    expect(app.mail!.outbox.countsByState().queued).toBe(0);
    app.close();
    const restarted = stack.app();
    await restarted.pipeline.publish();
    await restarted.mail!.runOnce();
    expect(await smtp.messages()).toHaveLength(1);
    expect(stack.mytpe.links()).toHaveLength(1);
  });

  it('sends nothing to a partner without a valid email, tells the accountant and shows it in status', async () => {
    await withMail();
    const partnerId = stack.odoo.models.createPartner({ name: 'No Mail SARL' });
    const id = stack.odoo.models.createInvoice({ partnerId, companyId: stack.companyId, amount: '800.00' });
    const app = await ready();
    await app.pipeline.publish();
    await app.mail!.runOnce();
    await app.pipeline.postNotes();
    expect(await smtp.messages()).toHaveLength(0);
    expect(app.mail!.outbox.countsByState().no_recipient).toBe(1);
    const notes = stack.odoo.models.messages(id).map((message) => message.body);
    expect(notes.some((body) => body.includes('no valid email address'))).toBe(true);
    expect(formatStatus(app, { runs: false })).toMatch(/Emails\s+no_recipient 1/);
  });

  it('resend sends the invoice email again on purpose', async () => {
    await withMail();
    const [id] = stack.createInvoices(1);
    const app = await ready();
    await app.pipeline.publish();
    await app.mail!.runOnce();
    app.close();
    const configFile = path.join(stack.dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(stack.config));
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['dist/cli.js', '--config', configFile, 'resend', String(id)],
        { cwd: path.resolve(import.meta.dirname, '../..'), env: { ...process.env, PAYLINK_CONFIG: '' } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).not.toContain('odoo-paylink:');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('queued the email of INV/');
    const messages = await parsedMessages();
    expect(messages).toHaveLength(2);
    expect(new Set(messages.map((message) => message.messageId)).size).toBe(2);
  }, 30_000);
});
