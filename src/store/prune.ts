import type { Db } from './database.js';

/**
 * Retention: deletes what only history needs once it is older than `store.retentionDays`.
 * Finished runs (by started_at), webhook events no longer pending (by received_at), posted
 * chatter notes (by posted_at) and emails sent, failed or without a recipient (by updated_at).
 * Never a link row, a pending event, a pending note or a queued or sending email: those are
 * work still owed, whatever their age.
 *
 * Each table is walked in id order with a cursor, so a row is looked at once per prune and no
 * index on the time columns is needed; each batch of at most `batchSize` rows is deleted in its
 * own short IMMEDIATE transaction, so another process writing the store (a CLI command) waits
 * for one batch at most, and the WAL grows by one batch between checkpoints.
 */

export interface PruneOptions {
  /** Epoch ms; rows older than now - retentionDays are deleted. */
  readonly now: number;
  readonly retentionDays: number;
  /** Rows deleted per transaction. */
  readonly batchSize?: number;
}

export interface PruneResult {
  readonly runs: number;
  readonly events: number;
  readonly notes: number;
  readonly outbox: number;
}

const DAY_MS = 86_400_000;

/** Per table, the condition a row must meet to go; `?` is the cutoff (epoch ms). */
const PRUNABLE: Readonly<Record<keyof PruneResult, string>> = {
  runs: 'finished_at IS NOT NULL AND started_at < ?',
  events: "state <> 'pending' AND received_at < ?",
  notes: "state = 'posted' AND posted_at < ?",
  outbox: "state IN ('sent', 'failed', 'no_recipient') AND updated_at < ?",
};

export function pruneStore(db: Db, options: PruneOptions): PruneResult {
  const { now, retentionDays, batchSize = 500 } = options;
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new RangeError(`retentionDays must be a whole number of days, at least 1 (got ${retentionDays})`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a whole number, at least 1 (got ${batchSize})`);
  }
  const cutoff = now - retentionDays * DAY_MS;
  return {
    runs: pruneTable(db, 'runs', cutoff, batchSize),
    events: pruneTable(db, 'events', cutoff, batchSize),
    notes: pruneTable(db, 'notes', cutoff, batchSize),
    outbox: pruneTable(db, 'outbox', cutoff, batchSize),
  };
}

function pruneTable(db: Db, table: keyof PruneResult, cutoff: number, batchSize: number): number {
  const condition = PRUNABLE[table];
  const next = db.prepare<[number, number, number], { id: number }>(
    `SELECT id FROM ${table} WHERE id > ? AND ${condition} ORDER BY id LIMIT ?`,
  );
  // The delete takes exactly the ids just read, and checks the condition again: a row another
  // process changed in between (an email queued again, say) stays.
  const remove = db.prepare<[string, number]>(
    `DELETE FROM ${table} WHERE id IN (SELECT value FROM json_each(?)) AND ${condition}`,
  );
  let after = 0;
  let deleted = 0;
  for (;;) {
    const ids = next.all(after, cutoff, batchSize).map((row) => row.id);
    if (ids.length === 0) return deleted;
    deleted += db.transaction(() => remove.run(JSON.stringify(ids), cutoff).changes).immediate();
    after = ids[ids.length - 1]!;
    if (ids.length < batchSize) return deleted;
  }
}
