import type { Db } from './database.js';

export interface NoteRow {
  readonly id: number;
  /** Null for a note about an invoice that has no link of ours. */
  readonly linkRowId: number | null;
  readonly companyId: number;
  readonly invoiceId: number;
  readonly kind: string;
  /** The note's Message-Id in the chatter, so a retry finds the note it already posted. */
  readonly marker: string;
  readonly body: string;
  readonly attempts: number;
}

interface RawNoteRow {
  id: number;
  link_row_id: number | null;
  company_id: number;
  invoice_id: number;
  kind: string;
  marker: string;
  body: string;
  attempts: number;
}

export interface NewNote {
  readonly linkRowId: number | null;
  readonly companyId: number;
  readonly invoiceId: number;
  readonly kind: string;
  readonly marker: string;
  readonly body: string;
}

/**
 * Chatter notes owed to the accountant. Queued in the same transaction as the state change they
 * report, keyed by (link, kind) so a retried step never queues the same note twice.
 */
export class NoteRepository {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO notes (link_row_id, company_id, invoice_id, kind, marker, body, state, created_at)
         VALUES (@linkRowId, @companyId, @invoiceId, @kind, @marker, @body, 'pending', @now)
         ON CONFLICT DO NOTHING`,
      ),
      due: db.prepare<[number, number], RawNoteRow>(
        `SELECT id, link_row_id, company_id, invoice_id, kind, marker, body, attempts FROM notes
         WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
      ),
      claim: db.prepare<[number, number, number]>(
        `UPDATE notes SET next_attempt_at = ?, attempts = attempts + 1
         WHERE id = ? AND state = 'pending' AND next_attempt_at <= ?`,
      ),
      posted: db.prepare<[number, number]>(`UPDATE notes SET state = 'posted', posted_at = ? WHERE id = ?`),
      postpone: db.prepare<[string, number, number]>(
        'UPDATE notes SET last_error = ?, next_attempt_at = ? WHERE id = ?',
      ),
      pendingCount: db.prepare<[], { count: number }>(
        `SELECT COUNT(*) AS count FROM notes WHERE state = 'pending'`,
      ),
    };
  }

  /** Queues a note unless one of this kind is already queued for the link (or link-less invoice). */
  enqueue(note: NewNote, now: number): boolean {
    return this.statements.insert.run({ ...note, now }).changes === 1;
  }

  due(now: number, limit: number): NoteRow[] {
    return this.statements.due.all(now, limit).map((raw) => ({
      id: raw.id,
      linkRowId: raw.link_row_id,
      companyId: raw.company_id,
      invoiceId: raw.invoice_id,
      kind: raw.kind,
      marker: raw.marker,
      body: raw.body,
      attempts: raw.attempts,
    }));
  }

  /**
   * Takes a due note for one poster (two passes may flush notes at once) and counts the attempt;
   * a poster that dies leaves it to be taken again after `leaseMs`, and from the second attempt
   * on the marker in the chatter prevents a repeat.
   */
  claim(id: number, now: number, leaseMs: number): boolean {
    return this.statements.claim.run(now + leaseMs, id, now).changes === 1;
  }

  markPosted(id: number, now: number): void {
    this.statements.posted.run(now, id);
  }

  postpone(id: number, error: string, nextAttemptAt: number): void {
    this.statements.postpone.run(error, nextAttemptAt, id);
  }

  pendingCount(): number {
    return this.statements.pendingCount.get()?.count ?? 0;
  }
}
