import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Db, openDatabase } from './database.js';
import { pruneStore } from './prune.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
const OLD = NOW - 91 * DAY;
const RECENT = NOW - 89 * DAY;

let db: Db;
let linkRowId: number;

beforeEach(() => {
  db = openDatabase(':memory:');
  linkRowId = link(OLD);
});

afterEach(() => {
  db.close();
});

let invoiceId = 0;
function link(at: number): number {
  invoiceId += 1;
  return Number(
    db
      .prepare(
        `INSERT INTO links (gateway, company_id, invoice_id, invoice_name, sequence, reference, amount_minor,
                            currency, decimals, state, created_at, updated_at)
         VALUES ('mytpe', 1, ?, 'INV', 1, ?, 100, 'DZD', 2, 'registered', ?, ?)`,
      )
      .run(invoiceId, `db-inv-${invoiceId}-1`, at, at).lastInsertRowid,
  );
}

function run(startedAt: number, finished: boolean): number {
  return Number(
    db
      .prepare('INSERT INTO runs (kind, started_at, finished_at, outcome) VALUES (?, ?, ?, ?)')
      .run('publish', startedAt, finished ? startedAt + 1000 : null, finished ? 'ok' : null).lastInsertRowid,
  );
}

let eventCount = 0;
function event(receivedAt: number, state: 'pending' | 'processed' | 'ignored' | 'unknown_link'): number {
  eventCount += 1;
  return Number(
    db
      .prepare(
        `INSERT INTO events (gateway, event_id, type, concerns_payment, body, state, received_at)
         VALUES ('mytpe', ?, 'transaction.completed', 1, '{}', ?, ?)`,
      )
      .run(`evt-${eventCount}`, state, receivedAt).lastInsertRowid,
  );
}

let noteCount = 0;
function note(createdAt: number, postedAt: number | null): number {
  noteCount += 1;
  return Number(
    db
      .prepare(
        `INSERT INTO notes (link_row_id, company_id, invoice_id, kind, marker, body, state, created_at, posted_at)
         VALUES (?, 1, 1, ?, '[marker]', 'note', ?, ?, ?)`,
      )
      .run(linkRowId, `kind-${noteCount}`, postedAt === null ? 'pending' : 'posted', createdAt, postedAt)
      .lastInsertRowid,
  );
}

let emailCount = 0;
function email(
  state: 'queued' | 'sending' | 'sent' | 'failed' | 'no_recipient',
  createdAt: number,
  updatedAt = createdAt,
): number {
  emailCount += 1;
  return Number(
    db
      .prepare(
        `INSERT INTO outbox (link_row_id, invoice_id, company_id, dedupe_key, payload, state, next_attempt_at,
                             created_at, updated_at)
         VALUES (?, 1, 1, ?, '{}', ?, ?, ?, ?)`,
      )
      .run(linkRowId, `link:${emailCount}`, state, createdAt, createdAt, updatedAt).lastInsertRowid,
  );
}

const ids = (table: string) =>
  db
    .prepare<[], { id: number }>(`SELECT id FROM ${table} ORDER BY id`)
    .all()
    .map((row) => row.id);

describe('pruneStore', () => {
  it('deletes the history older than the retention and keeps the work still owed, whatever its age', () => {
    const oldLink = link(OLD);
    const runs = {
      oldFinished: run(OLD, true),
      oldUnfinished: run(OLD, false), // a pass that crashed: its row is all that says so
      recent: run(RECENT, true),
    };
    const events = {
      oldProcessed: event(OLD, 'processed'),
      oldIgnored: event(OLD, 'ignored'),
      oldUnknownLink: event(OLD, 'unknown_link'),
      oldPending: event(OLD, 'pending'),
      recent: event(RECENT, 'processed'),
    };
    const notes = {
      oldPosted: note(OLD, OLD),
      oldPending: note(OLD, null),
      postedRecently: note(OLD, RECENT),
    };
    const emails = {
      oldSent: email('sent', OLD),
      oldFailed: email('failed', OLD),
      oldNoRecipient: email('no_recipient', OLD),
      oldQueued: email('queued', OLD),
      oldSending: email('sending', OLD),
      sentRecently: email('sent', OLD, RECENT),
    };

    expect(pruneStore(db, { now: NOW, retentionDays: 90 })).toEqual({
      runs: 1,
      events: 3,
      notes: 1,
      outbox: 3,
    });

    expect(ids('runs')).toEqual([runs.oldUnfinished, runs.recent]);
    expect(ids('events')).toEqual([events.oldPending, events.recent]);
    expect(ids('notes')).toEqual([notes.oldPending, notes.postedRecently]);
    expect(ids('outbox')).toEqual([emails.oldQueued, emails.oldSending, emails.sentRecently]);
    expect(ids('links')).toEqual([linkRowId, oldLink]);
    // A second prune finds nothing more.
    expect(pruneStore(db, { now: NOW, retentionDays: 90 })).toEqual({
      runs: 0,
      events: 0,
      notes: 0,
      outbox: 0,
    });
  });

  it('keeps a row exactly as old as the retention', () => {
    const edge = run(NOW - 90 * DAY, true);
    run(NOW - 90 * DAY - 1, true);
    expect(pruneStore(db, { now: NOW, retentionDays: 90 }).runs).toBe(1);
    expect(ids('runs')).toEqual([edge]);
  });

  it('deletes in transactions of at most batchSize rows', () => {
    const pending: number[] = [];
    for (let index = 0; index < 1_234; index++) {
      event(OLD, 'processed');
      if (index % 100 === 0) pending.push(event(OLD, 'pending'));
    }
    const recent = event(RECENT, 'processed');
    const batches: number[] = [];
    const transaction = db.transaction.bind(db);
    vi.spyOn(db, 'transaction').mockImplementation((fn) =>
      transaction((...args: unknown[]) => {
        const deleted = fn(...args) as number;
        batches.push(deleted);
        return deleted;
      }),
    );

    expect(pruneStore(db, { now: NOW, retentionDays: 90, batchSize: 500 }).events).toBe(1_234);
    expect(batches).toEqual([500, 500, 234]);
    expect(ids('events')).toEqual([...pending, recent]);
  });

  it('refuses a retention or batch size that is not a positive whole number', () => {
    expect(() => pruneStore(db, { now: NOW, retentionDays: 0 })).toThrow(RangeError);
    expect(() => pruneStore(db, { now: NOW, retentionDays: 90, batchSize: 0 })).toThrow(RangeError);
  });
});
