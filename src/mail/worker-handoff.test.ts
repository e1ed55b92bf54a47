import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { OUTBOX_SCHEMA_SQL, OutboxRepository, type OutboxRow } from '../store/outbox.js';
import { sampleInvoiceEmail } from './preview.js';
import { EmailRenderer } from './render.js';
import { type MailHandOff, type MailLogger, MailWorker } from './worker.js';

const T0 = Date.UTC(2025, 0, 1);

function logger(): MailLogger & { lines: string[] } {
  const lines: string[] = [];
  const at = (message: string) => {
    lines.push(message);
  };
  return { lines, info: at, warn: at, error: at, debug: at };
}

/** The worker with a hand-off and no SMTP transport at all (mail.via odoo). */
function setup(deliver: MailHandOff['deliver'], partnerEmail: string | null = 'karim@example.dz') {
  const db = new Database(':memory:');
  db.exec(OUTBOX_SCHEMA_SQL);
  const outbox = new OutboxRepository(db);
  const log = logger();
  const handed: OutboxRow[] = [];
  const sentNotes: string[][] = [];
  const worker = new MailWorker({
    outbox,
    handOff: {
      deliver: (row, email) => {
        handed.push(row);
        return deliver(row, email);
      },
    },
    renderer: new EmailRenderer(),
    fetchPdf: () => Promise.reject(new Error('no PDF download with mail.via odoo')),
    notifyNoRecipient: async () => undefined,
    onSent: (_row, recipients) => sentNotes.push([...recipients]),
    logger: log,
    clock: () => T0,
    random: () => 0,
  });
  const email = sampleInvoiceEmail('en');
  const { row } = outbox.enqueue({
    linkRowId: 1,
    invoiceId: 42,
    companyId: 1,
    dedupeKey: 'link:1',
    payload: { ...email, partner: { ...email.partner, email: partnerEmail } },
    now: T0,
  });
  return { worker, outbox, row, log, handed, sentNotes };
}

describe('MailWorker with a hand-off (mail.via odoo)', () => {
  it('hands the checked row over instead of rendering and sending it, and records it sent', async () => {
    const { worker, outbox, row, handed, sentNotes } = setup(async () => 'sent');
    expect(await worker.runOnce()).toMatchObject({ sent: 1 });
    expect(handed.map((r) => r.id)).toEqual([row.id]);
    expect(outbox.findById(row.id)?.state).toBe('sent');
    expect(sentNotes).toEqual([['karim@example.dz']]);
  });

  it('records a row the other mailer had already sent, without sending it again', async () => {
    const { worker, outbox, row, log } = setup(async () => 'already_sent');
    expect(await worker.runOnce()).toMatchObject({ sent: 1 });
    expect(outbox.findById(row.id)?.state).toBe('sent');
    expect(log.lines.some((line) => line.includes('had already sent'))).toBe(true);
  });

  it('retries when the hand-off fails', async () => {
    const { worker, outbox, row } = setup(async () => {
      throw new Error('Odoo is down');
    });
    expect(await worker.runOnce()).toMatchObject({ retried: 1 });
    expect(outbox.findById(row.id)).toMatchObject({ state: 'queued', lastError: 'Odoo is down' });
  });

  it('a customer without an address is still not emailed', async () => {
    const { worker, handed } = setup(async () => 'sent', null);
    expect(await worker.runOnce()).toMatchObject({ noRecipient: 1 });
    expect(handed).toHaveLength(0);
  });

  it('needs a transport or a hand-off', () => {
    const db = new Database(':memory:');
    db.exec(OUTBOX_SCHEMA_SQL);
    expect(
      () =>
        new MailWorker({
          outbox: new OutboxRepository(db),
          renderer: new EmailRenderer(),
          fetchPdf: async () => Buffer.alloc(0),
          notifyNoRecipient: async () => undefined,
          logger: logger(),
        }),
    ).toThrow(/transport or a hand-off/);
  });
});
