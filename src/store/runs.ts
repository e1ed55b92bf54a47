import type { Db } from './database.js';

export interface RunRow {
  readonly id: number;
  readonly kind: string;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly outcome: 'ok' | 'partial' | 'failed' | null;
  readonly summary: Record<string, unknown> | null;
}

/** A record of every pass (publish, confirm, reconcile), shown by `status`. */
export class RunRepository {
  constructor(private readonly db: Db) {}

  start(kind: string, now: number): number {
    return Number(
      this.db.prepare('INSERT INTO runs (kind, started_at) VALUES (?, ?)').run(kind, now).lastInsertRowid,
    );
  }

  finish(id: number, outcome: 'ok' | 'partial' | 'failed', summary: object, now: number): void {
    this.db
      .prepare('UPDATE runs SET finished_at = ?, outcome = ?, summary = ? WHERE id = ?')
      .run(now, outcome, JSON.stringify(summary), id);
  }

  latest(kind: string, limit = 1): RunRow[] {
    return this.db
      .prepare<
        [string, number],
        {
          id: number;
          kind: string;
          started_at: number;
          finished_at: number | null;
          outcome: RunRow['outcome'];
          summary: string | null;
        }
      >('SELECT * FROM runs WHERE kind = ? ORDER BY id DESC LIMIT ?')
      .all(kind, limit)
      .map((raw) => ({
        id: raw.id,
        kind: raw.kind,
        startedAt: raw.started_at,
        finishedAt: raw.finished_at,
        outcome: raw.outcome,
        summary: raw.summary === null ? null : (JSON.parse(raw.summary) as Record<string, unknown>),
      }));
  }
}
