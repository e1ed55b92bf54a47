import type { Db } from './database.js';

/** What the daemon noticed about an invoice that has no link of ours, said once. */
export type NoticeKind =
  /** The invoice carries a link this deployment did not make; it is left alone. */
  | 'foreign_link'
  /** The invoice is in a currency its company's gateway cannot charge. */
  | 'unsupported_currency';

export interface Notice {
  readonly invoiceId: number;
  readonly companyId: number;
  readonly kind: NoticeKind;
  readonly detail: string;
  readonly createdAt: number;
}

/** One row per invoice and kind: the chatter note and the log line go out once, status counts them. */
export class NoticeRepository {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      insert: db.prepare<[number, number, string, string, number]>(
        `INSERT INTO invoice_notices (invoice_id, company_id, kind, detail, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (invoice_id, kind) DO NOTHING`,
      ),
      get: db.prepare<[number, string], { detail: string }>(
        'SELECT detail FROM invoice_notices WHERE invoice_id = ? AND kind = ?',
      ),
      remove: db.prepare<[number, string]>('DELETE FROM invoice_notices WHERE invoice_id = ? AND kind = ?'),
      counts: db.prepare<[], { kind: NoticeKind; count: number }>(
        'SELECT kind, COUNT(*) AS count FROM invoice_notices GROUP BY kind ORDER BY kind',
      ),
      latest: db.prepare<
        [number],
        { invoice_id: number; company_id: number; kind: NoticeKind; detail: string; created_at: number }
      >('SELECT * FROM invoice_notices ORDER BY created_at DESC LIMIT ?'),
    };
  }

  /** Records the notice; true when it is new (so the caller tells a person). */
  record(notice: Omit<Notice, 'createdAt'>, now: number): boolean {
    return (
      this.statements.insert.run(notice.invoiceId, notice.companyId, notice.kind, notice.detail, now)
        .changes === 1
    );
  }

  detail(invoiceId: number, kind: NoticeKind): string | undefined {
    return this.statements.get.get(invoiceId, kind)?.detail;
  }

  remove(invoiceId: number, kind: NoticeKind): void {
    this.statements.remove.run(invoiceId, kind);
  }

  countsByKind(): Array<{ kind: NoticeKind; count: number }> {
    return this.statements.counts.all();
  }

  latest(limit: number): Notice[] {
    return this.statements.latest.all(limit).map((raw) => ({
      invoiceId: raw.invoice_id,
      companyId: raw.company_id,
      kind: raw.kind,
      detail: raw.detail,
      createdAt: raw.created_at,
    }));
  }
}
