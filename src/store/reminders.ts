import type { Db } from './database.js';

/**
 * Where each emailed invoice stands in its reminder schedule: when its customer was first and
 * last emailed, how many reminders went, and when the next one is due (null: none left). Odoo
 * holds the same facts (x_paylink_emailed_at, x_paylink_reminders_sent); this is the index that
 * lets a pass find due reminders without reading every open invoice.
 */
export interface ReminderRow {
  readonly invoiceId: number;
  readonly companyId: number;
  readonly firstEmailAt: number;
  readonly lastEmailAt: number;
  readonly sent: number;
  readonly nextAt: number | null;
}

interface RawReminderRow {
  invoice_id: number;
  company_id: number;
  first_email_at: number;
  last_email_at: number;
  sent: number;
  next_at: number | null;
}

function toRow(raw: RawReminderRow): ReminderRow {
  return {
    invoiceId: raw.invoice_id,
    companyId: raw.company_id,
    firstEmailAt: raw.first_email_at,
    lastEmailAt: raw.last_email_at,
    sent: raw.sent,
    nextAt: raw.next_at,
  };
}

export class ReminderRepository {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      seed: db.prepare<[number, number, number, number, number, number | null]>(
        `INSERT INTO reminders (invoice_id, company_id, first_email_at, last_email_at, sent, next_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (invoice_id) DO NOTHING`,
      ),
      get: db.prepare<[number], RawReminderRow>('SELECT * FROM reminders WHERE invoice_id = ?'),
      due: db.prepare<[number, number], RawReminderRow>(
        'SELECT * FROM reminders WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at LIMIT ?',
      ),
      record: db.prepare<[number, number, number | null, number, number]>(
        `UPDATE reminders SET sent = ?, last_email_at = ?, next_at = ?
          WHERE invoice_id = ? AND sent = ?`,
      ),
      reschedule: db.prepare<[number | null, number]>(
        'UPDATE reminders SET next_at = ? WHERE invoice_id = ?',
      ),
    };
  }

  /** Starts an invoice's schedule at its first email (or as Odoo recorded it); no-op if known. */
  seed(row: Omit<ReminderRow, 'nextAt'>, nextAt: number | null): void {
    this.statements.seed.run(
      row.invoiceId,
      row.companyId,
      row.firstEmailAt,
      row.lastEmailAt,
      row.sent,
      nextAt,
    );
  }

  get(invoiceId: number): ReminderRow | undefined {
    const raw = this.statements.get.get(invoiceId);
    return raw ? toRow(raw) : undefined;
  }

  due(now: number, limit: number): ReminderRow[] {
    return this.statements.due.all(now, limit).map(toRow);
  }

  /**
   * Records reminder number `sent` as going out now, if the row still counts `expected` (what the
   * caller read); false when another pass recorded one first, so only one of them queues the email.
   */
  record(invoiceId: number, expected: number, sent: number, at: number, nextAt: number | null): boolean {
    return this.statements.record.run(sent, at, nextAt, invoiceId, expected).changes === 1;
  }

  /** Moves the next reminder (null: none any more, the invoice no longer wants reminding). */
  reschedule(invoiceId: number, nextAt: number | null): void {
    this.statements.reschedule.run(nextAt, invoiceId);
  }
}
