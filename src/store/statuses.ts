import type { Db } from './database.js';

/** What the invoice form says of its online payment, in the accountant's words once shown. */
export const INVOICE_STATUSES = ['open', 'paid', 'replaced', 'expired', 'archived', 'attention'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/** What a person must look at when the status is `attention` (each becomes a To-Do activity). */
export type AttentionKind =
  | 'mismatch'
  | 'refund_needed'
  | 'creation_refused'
  | 'failed'
  | 'no_email'
  | 'foreign_link';

export interface WantedStatus {
  readonly invoiceId: number;
  readonly companyId: number;
  readonly status: InvoiceStatus;
  readonly reason?: string | null;
  readonly attentionKind?: AttentionKind | null;
}

export interface InvoiceStatusRow {
  readonly invoiceId: number;
  readonly companyId: number;
  readonly status: InvoiceStatus;
  readonly reason: string | null;
  readonly attentionKind: AttentionKind | null;
  readonly changedAt: number;
  readonly revision: number;
  readonly shownRevision: number;
  /** The open To-Do activity in Odoo, while there is one. */
  readonly activityId: number | null;
  readonly attempts: number;
}

interface RawStatusRow {
  invoice_id: number;
  company_id: number;
  status: InvoiceStatus;
  reason: string | null;
  attention_kind: AttentionKind | null;
  changed_at: number;
  revision: number;
  shown_revision: number;
  activity_id: number | null;
  attempts: number;
}

const COLUMNS =
  'invoice_id, company_id, status, reason, attention_kind, changed_at, revision, shown_revision, activity_id, attempts';

function toRow(raw: RawStatusRow): InvoiceStatusRow {
  return {
    invoiceId: raw.invoice_id,
    companyId: raw.company_id,
    status: raw.status,
    reason: raw.reason,
    attentionKind: raw.attention_kind,
    changedAt: raw.changed_at,
    revision: raw.revision,
    shownRevision: raw.shown_revision,
    activityId: raw.activity_id,
    attempts: raw.attempts,
  };
}

/**
 * The status each invoice should show, recorded in the same transaction as the change it
 * follows, and written to Odoo by a sweep: a crash between the two leaves it due, never lost.
 */
export class InvoiceStatusRepository {
  private readonly statements;

  constructor(private readonly db: Db) {
    this.statements = {
      get: db.prepare<[number], RawStatusRow>(`SELECT ${COLUMNS} FROM invoice_statuses WHERE invoice_id = ?`),
      upsert: db.prepare(
        `INSERT INTO invoice_statuses (invoice_id, company_id, status, reason, attention_kind, changed_at, revision, shown_revision)
         VALUES (@invoiceId, @companyId, @status, @reason, @attentionKind, @now, 0, @shown)
         ON CONFLICT (invoice_id) DO UPDATE SET
           company_id = excluded.company_id, status = excluded.status, reason = excluded.reason,
           attention_kind = excluded.attention_kind, changed_at = excluded.changed_at,
           revision = revision + 1,
           shown_revision = CASE WHEN @shownFlag = 1 THEN revision + 1 ELSE shown_revision END,
           attempts = 0, next_attempt_at = 0, last_error = NULL`,
      ),
      due: db.prepare<[number, number], RawStatusRow>(
        `SELECT ${COLUMNS} FROM invoice_statuses
         WHERE shown_revision < revision AND next_attempt_at <= ? ORDER BY changed_at LIMIT ?`,
      ),
      claim: db.prepare<[number, number, number, number]>(
        `UPDATE invoice_statuses SET next_attempt_at = ?, attempts = attempts + 1
         WHERE invoice_id = ? AND revision = ? AND next_attempt_at <= ?`,
      ),
      shown: db.prepare<[number, number | null, number, number]>(
        `UPDATE invoice_statuses SET shown_revision = ?, activity_id = ?, last_error = NULL
         WHERE invoice_id = ? AND revision = ?`,
      ),
      activity: db.prepare<[number | null, number]>(
        'UPDATE invoice_statuses SET activity_id = ? WHERE invoice_id = ?',
      ),
      postpone: db.prepare<[string, number, number]>(
        'UPDATE invoice_statuses SET last_error = ?, next_attempt_at = ? WHERE invoice_id = ?',
      ),
      attentionCount: db.prepare<[], { count: number }>(
        `SELECT COUNT(*) AS count FROM invoice_statuses WHERE status = 'attention'`,
      ),
    };
  }

  get(invoiceId: number): InvoiceStatusRow | undefined {
    const raw = this.statements.get.get(invoiceId);
    return raw ? toRow(raw) : undefined;
  }

  /**
   * Records what the invoice should show; unchanged wants are no-ops. `shown`: the caller has
   * just written it to Odoo with another write (the link fields), so no sweep is owed.
   */
  want(wanted: WantedStatus, now: number, options: { shown?: boolean } = {}): boolean {
    const current = this.get(wanted.invoiceId);
    const reason = wanted.reason ?? null;
    const attentionKind = wanted.attentionKind ?? null;
    if (
      current &&
      current.status === wanted.status &&
      current.reason === reason &&
      current.attentionKind === attentionKind
    )
      return false;
    const shown = options.shown === true;
    this.statements.upsert.run({
      invoiceId: wanted.invoiceId,
      companyId: wanted.companyId,
      status: wanted.status,
      reason,
      attentionKind,
      now,
      shown: shown ? 0 : -1,
      shownFlag: shown ? 1 : 0,
    });
    return true;
  }

  due(now: number, limit: number): InvoiceStatusRow[] {
    return this.statements.due.all(now, limit).map(toRow);
  }

  /** Takes a due status for one sweep (counting the attempt); a sweep that dies leaves it for later. */
  claim(row: InvoiceStatusRow, now: number, leaseMs: number): boolean {
    return this.statements.claim.run(now + leaseMs, row.invoiceId, row.revision, now).changes === 1;
  }

  /** Odoo shows `row`'s revision (unless the status changed meanwhile); `activityId` is its To-Do. */
  markShown(row: InvoiceStatusRow, activityId: number | null): boolean {
    return this.statements.shown.run(row.revision, activityId, row.invoiceId, row.revision).changes === 1;
  }

  /** Remembers the To-Do as soon as Odoo made it, so a later failure of the same sweep keeps it. */
  recordActivity(invoiceId: number, activityId: number | null): void {
    this.statements.activity.run(activityId, invoiceId);
  }

  postpone(invoiceId: number, error: string, nextAttemptAt: number): void {
    this.statements.postpone.run(error, nextAttemptAt, invoiceId);
  }

  attentionCount(): number {
    return this.statements.attentionCount.get()?.count ?? 0;
  }

  /** Statuses changed here and not yet shown on the invoice in Odoo (the sweep's queue). */
  unshownCount(): number {
    return (
      this.db
        .prepare<[], { count: number }>(
          'SELECT COUNT(*) AS count FROM invoice_statuses WHERE shown_revision < revision',
        )
        .get()?.count ?? 0
    );
  }
}

export interface HandledRequest {
  readonly invoiceId: number;
  /** The invoice's write_date when the request was read. */
  readonly seenWriteDate: string;
  readonly request: string;
  readonly outcome: string;
}

/** Requests from the invoice's Action menu that were carried out or refused. */
export class InvoiceRequestRepository {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO invoice_requests (invoice_id, seen_write_date, request, outcome, handled_at)
         VALUES (@invoiceId, @seenWriteDate, @request, @outcome, @now) ON CONFLICT DO NOTHING`,
      ),
      get: db.prepare<[number, string], { outcome: string }>(
        'SELECT outcome FROM invoice_requests WHERE invoice_id = ? AND seen_write_date = ?',
      ),
    };
  }

  /** Records a request as handled; false when it already was (the effect must not run again). */
  record(request: HandledRequest, now: number): boolean {
    return this.statements.insert.run({ ...request, now }).changes === 1;
  }

  outcomeOf(invoiceId: number, seenWriteDate: string): string | undefined {
    return this.statements.get.get(invoiceId, seenWriteDate)?.outcome;
  }
}
