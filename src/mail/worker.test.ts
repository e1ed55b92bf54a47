import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { OUTBOX_SCHEMA_SQL, OutboxRepository, type OutboxRow } from '../store/outbox.js';
import { sampleInvoiceEmail } from './preview.js';
import { EmailRenderer } from './render.js';
import type { MailTransport, OutgoingEmail, SendResult } from './transport.js';
import { type MailLogger, MailWorker, type MailWorkerOptions } from './worker.js';

const T0 = Date.UTC(2025, 0, 1);
const PDF = Buffer.from('%PDF-1.4 fake');

function logger(): MailLogger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => {
    lines.push({ level, message });
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

function fakeTransport(
  send: (email: OutgoingEmail) => Promise<SendResult>,
): MailTransport & { sent: OutgoingEmail[] } {
  const sent: OutgoingEmail[] = [];
  return {
    sent,
    async send(email) {
      sent.push(email);
      return send(email);
    },
    async verify() {},
    close() {},
  };
}

const ok = async (email: OutgoingEmail): Promise<SendResult> => ({
  messageId: email.messageId,
  response: '250 OK',
  accepted: email.to.map((t) => t.address),
  rejected: [],
});

function setup(overrides: Partial<MailWorkerOptions> = {}, partnerEmail: string | null = 'karim@example.dz') {
  const db = new Database(':memory:');
  db.exec(OUTBOX_SCHEMA_SQL);
  const outbox = new OutboxRepository(db);
  let now = T0;
  const log = logger();
  const transport = fakeTransport(ok);
  const options: MailWorkerOptions = {
    outbox,
    transport,
    renderer: new EmailRenderer(),
    fetchPdf: async () => PDF,
    notifyNoRecipient: async () => undefined,
    logger: log,
    clock: () => now,
    random: () => 0,
    ...overrides,
  };
  const worker = new MailWorker(options);
  const email = sampleInvoiceEmail('en');
  const { row } = outbox.enqueue({
    linkRowId: 1,
    invoiceId: 42,
    companyId: 1,
    dedupeKey: 'link:1',
    payload: { ...email, partner: { ...email.partner, email: partnerEmail } },
    now,
  });
  return {
    db,
    outbox,
    worker,
    log,
    transport,
    row,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('MailWorker', () => {
  it('holds an email while its replacement link is made, then sends the row as the check moved it', async () => {
    const replacementUrl = 'https://pay.example.com/l/replacement-2';
    let replaced = false;
    const transport = fakeTransport(ok);
    const { worker, outbox, row, advance } = setup({
      transport,
      check: async (claimed) => {
        if (!replaced) return { wait: 'its payment link expired and the one replacing it is being made' };
        const email = JSON.parse(claimed.payload) as { payment: { url: string } };
        const payload = JSON.stringify({ ...email, payment: { ...email.payment, url: replacementUrl } });
        return { send: outbox.moveToLink(claimed.id, 2, payload)! };
      },
    });
    expect(await worker.runOnce()).toMatchObject({ retried: 1, sent: 0 });
    expect(outbox.findById(row.id)).toMatchObject({ state: 'queued', linkRowId: 1 });
    // Not looked at again before the wait is over.
    advance(30_000);
    expect(await worker.runOnce()).toMatchObject({ retried: 0, sent: 0 });
    replaced = true;
    advance(30_000);
    expect(await worker.runOnce()).toMatchObject({ sent: 1 });
    expect(outbox.findById(row.id)).toMatchObject({ state: 'sent', linkRowId: 2 });
    expect(transport.sent).toHaveLength(1);
    expect(transport.sent[0]!.html).toContain(replacementUrl);
  });

  it('records a customer without an address as no_recipient after telling a person', async () => {
    const notified: OutboxRow[] = [];
    const transport = fakeTransport(ok);
    const { worker, outbox, row, log } = setup(
      { transport, notifyNoRecipient: async (r) => void notified.push(r) },
      'not-an-address',
    );
    expect(await worker.runOnce()).toMatchObject({ noRecipient: 1 });
    expect(transport.sent).toHaveLength(0);
    expect(notified.map((r) => r.id)).toEqual([row.id]);
    expect(outbox.findById(row.id)?.state).toBe('no_recipient');
    expect(log.lines.at(-1)?.message).toContain('has no valid email address');
  });

  it('retries the no-recipient note when it cannot be posted', async () => {
    const notify = vi.fn().mockRejectedValueOnce(new Error('Odoo is down')).mockResolvedValue(undefined);
    const { worker, outbox, row, advance } = setup({ notifyNoRecipient: notify }, null);
    expect(await worker.runOnce()).toMatchObject({ retried: 1 });
    expect(outbox.findById(row.id)).toMatchObject({
      state: 'queued',
      lastError: expect.stringContaining('Odoo is down'),
    });
    advance(30_000);
    expect(await worker.runOnce()).toMatchObject({ noRecipient: 1 });
    expect(notify).toHaveBeenCalledTimes(2);
  });

  it('logs a configuration error at error level, keeps the email queued, and names the fix', async () => {
    const transport = fakeTransport(async () => {
      throw Object.assign(new Error('Invalid login: 535 5.7.8 Authentication failed'), {
        code: 'EAUTH',
        responseCode: 535,
        response: '535 5.7.8 Authentication failed',
      });
    });
    const { worker, outbox, row, log } = setup({ transport });
    expect(await worker.runOnce()).toMatchObject({ retried: 1 });
    expect(outbox.findById(row.id)).toMatchObject({ state: 'queued', nextAttemptAt: T0 + 30_000 });
    expect(log.lines.at(-1)).toMatchObject({ level: 'error', message: expect.stringContaining('fix them') });
  });

  it('gives up after the last allowed attempt', async () => {
    const transport = fakeTransport(async () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' });
    });
    const { worker, outbox, row, advance } = setup({ transport, maxAttempts: 3 });
    for (let i = 0; i < 3; i++) {
      await worker.runOnce();
      advance(3_600_000);
    }
    expect(outbox.findById(row.id)).toMatchObject({
      state: 'failed',
      attempts: 3,
      lastError: expect.stringContaining('gave up after 3 attempts'),
    });
  });

  it('fails a row whose stored payload is unreadable, without sending', async () => {
    const transport = fakeTransport(ok);
    const { worker, outbox, db, row } = setup({ transport });
    db.prepare('UPDATE outbox SET payload = ? WHERE id = ?').run('{"invoice":{}}', row.id);
    expect(await worker.runOnce()).toMatchObject({ failed: 1 });
    expect(transport.sent).toHaveLength(0);
    expect(outbox.findById(row.id)?.lastError).toContain('invalid invoice email');
  });

  it('stop() waits for the send in flight and then records it', async () => {
    let markEntered!: () => void;
    const entered = new Promise<void>((resolve) => {
      markEntered = resolve;
    });
    let release!: () => void;
    const transport = fakeTransport(
      (email) =>
        new Promise<SendResult>((resolve) => {
          release = () => void ok(email).then(resolve);
          markEntered();
        }),
    );
    const { worker, outbox, row } = setup({ transport, pollIntervalMs: 10 });
    worker.start();
    await entered;
    let stopped = false;
    const stopping = worker.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    expect(outbox.findById(row.id)?.state).toBe('sending');
    release();
    await stopping;
    expect(outbox.findById(row.id)?.state).toBe('sent');
  });

  it('puts the stored Message-ID, the recipients and the attachments on the message', async () => {
    const transport = fakeTransport(ok);
    const { worker, outbox, row } = setup({ transport });
    await worker.runOnce();
    const [email] = transport.sent;
    const stored = outbox.findById(row.id);
    expect(email?.messageId).toBe(stored?.messageId);
    expect(email?.to).toEqual([{ name: 'Karim Benali', address: 'karim@example.dz' }]);
    expect(email?.attachments.map((a) => [a.filename, a.contentType, a.cid])).toEqual([
      ['pay-qr.png', 'image/png', 'pay-qr@odoo-paylink'],
      ['INV_2025_00042.pdf', 'application/pdf', undefined],
    ]);
  });
});
