import type { InvoiceCursor } from '../pipeline/ports.js';
import type { Db } from './database.js';

export interface CompanyCursor {
  readonly cursor: InvoiceCursor | null;
  readonly lastFullSweepAt: number | null;
}

/** Per-company position of the incremental invoice poll. */
export class CursorRepository {
  private readonly select;
  private readonly upsertCursor;
  private readonly upsertSweep;

  constructor(db: Db) {
    this.select = db.prepare<
      [number],
      { write_date: string; invoice_id: number; last_full_sweep_at: number | null }
    >('SELECT write_date, invoice_id, last_full_sweep_at FROM cursors WHERE company_id = ?');
    this.upsertCursor = db.prepare<[number, string, number]>(
      `INSERT INTO cursors (company_id, write_date, invoice_id) VALUES (?, ?, ?)
       ON CONFLICT(company_id) DO UPDATE SET write_date = excluded.write_date, invoice_id = excluded.invoice_id
       WHERE excluded.write_date > cursors.write_date
          OR (excluded.write_date = cursors.write_date AND excluded.invoice_id > cursors.invoice_id)`,
    );
    this.upsertSweep = db.prepare<[number, number]>(
      `INSERT INTO cursors (company_id, write_date, invoice_id, last_full_sweep_at) VALUES (?, '1970-01-01 00:00:00', 0, ?)
       ON CONFLICT(company_id) DO UPDATE SET last_full_sweep_at = excluded.last_full_sweep_at`,
    );
  }

  get(companyId: number): CompanyCursor {
    const raw = this.select.get(companyId);
    if (!raw) return { cursor: null, lastFullSweepAt: null };
    const cursor =
      raw.invoice_id === 0 && raw.write_date.startsWith('1970')
        ? null
        : { writeDate: raw.write_date, id: raw.invoice_id };
    return { cursor, lastFullSweepAt: raw.last_full_sweep_at };
  }

  /** Moves the cursor forward only; an older position never overwrites a newer one. */
  advance(companyId: number, cursor: InvoiceCursor): void {
    this.upsertCursor.run(companyId, cursor.writeDate, cursor.id);
  }

  markFullSweep(companyId: number, at: number): void {
    this.upsertSweep.run(companyId, at);
  }
}
