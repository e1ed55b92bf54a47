/**
 * Durable queue of invoice emails. A row is the promise that one email will be sent (or that a
 * person is told why not); the unique dedupe key makes queueing idempotent across retries.
 */
import type Database from 'better-sqlite3';
import { type InvoiceEmail, parseInvoiceEmail } from '../mail/model.js';

export const OUTBOX_SCHEMA_SQL = `CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  link_row_id INTEGER NOT NULL,          -- our links table row
  invoice_id INTEGER NOT NULL,           -- Odoo account.move id
  company_id INTEGER NOT NULL,
  kind TEXT NOT NULL DEFAULT 'invoice' CHECK (kind IN ('invoice','reminder','resend')),
  dedupe_key TEXT NOT NULL UNIQUE,       -- 'link:<link_row_id>' for the first email, 'resend:<link_row_id>:<n>' for resends
  payload TEXT NOT NULL,                 -- JSON of InvoiceEmail (below), snapshotted when queued
  state TEXT NOT NULL CHECK (state IN ('queued','sending','sent','failed','no_recipient','dropped')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,      -- epoch ms
  last_error TEXT,
  message_id TEXT,                       -- the Message-ID header, set before the send
  sent_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_invoice ON outbox(invoice_id);
`;

export const OUTBOX_STATES = ['queued', 'sending', 'sent', 'failed', 'no_recipient', 'dropped'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];
/** The first email of an invoice, a reminder of it, or one an accountant asked for. */
export type EmailKind = 'invoice' | 'reminder' | 'resend';

export interface OutboxRow {
  id: number;
  linkRowId: number;
  invoiceId: number;
  companyId: number;
  kind: EmailKind;
  dedupeKey: string;
  /** The InvoiceEmail JSON; read it with parseInvoiceEmailJson. */
  payload: string;
  state: OutboxState;
  attempts: number;
  /** For 'queued': when the next attempt is due. For 'sending': when the claim's lease expires. */
  nextAttemptAt: number;
  lastError: string | null;
  messageId: string | null;
  sentAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface EnqueueInput {
  linkRowId: number;
  invoiceId: number;
  companyId: number;
  /** Default 'invoice'. */
  kind?: EmailKind;
  dedupeKey: string;
  payload: InvoiceEmail;
  now: number;
  /** Not sent until release(): a new link's email waits until the link is on the invoice. */
  held?: boolean;
}

/** next_attempt_at of a held row: never due until released. */
const HELD_UNTIL = Number.MAX_SAFE_INTEGER;

export interface EnqueueResult {
  row: OutboxRow;
  /** false when a row with this dedupe key already existed (it is returned unchanged). */
  inserted: boolean;
}

export interface OutboxOptions {
  /**
   * How long a claim protects a 'sending' row. After it, the row is considered abandoned by a
   * crashed worker and claimed again. Must exceed the longest possible send (SMTP timeouts).
   */
  leaseMs?: number;
  /** Clock for updated_at where the caller passes no time. */
  clock?: () => number;
}

export const DEFAULT_LEASE_MS = 10 * 60_000;
/** Keeps error texts stored in the row readable and bounded. */
const MAX_ERROR_LENGTH = 2000;

interface DbRow {
  id: number;
  link_row_id: number;
  invoice_id: number;
  company_id: number;
  kind: EmailKind;
  dedupe_key: string;
  payload: string;
  state: OutboxState;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  message_id: string | null;
  sent_at: number | null;
  created_at: number;
  updated_at: number;
}

function toRow(r: DbRow): OutboxRow {
  return {
    id: r.id,
    linkRowId: r.link_row_id,
    invoiceId: r.invoice_id,
    companyId: r.company_id,
    kind: r.kind,
    dedupeKey: r.dedupe_key,
    payload: r.payload,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    messageId: r.message_id,
    sentAt: r.sent_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function clip(error: string): string {
  return error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH - 1)}…` : error;
}

export class OutboxRepository {
  private readonly leaseMs: number;
  private readonly clock: () => number;
  private readonly stmts;

  constructor(db: Database.Database, options: OutboxOptions = {}) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.clock = options.clock ?? Date.now;
    this.stmts = {
      insert: db.prepare<[number, number, number, EmailKind, string, string, number, number, number]>(
        `INSERT INTO outbox (link_row_id, invoice_id, company_id, kind, dedupe_key, payload, state, attempts,
                             next_attempt_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?)
         ON CONFLICT(dedupe_key) DO NOTHING`,
      ),
      byKey: db.prepare<[string], DbRow>('SELECT * FROM outbox WHERE dedupe_key = ?'),
      // The Message-ID is minted here, once, so every later attempt (even after a crash) reuses it.
      // A 'sending' row's next_attempt_at is its lease expiry, so one index serves both cases.
      claim: db.prepare<{ now: number; leaseUntil: number; limit: number }, DbRow>(
        `UPDATE outbox
            SET state = 'sending',
                attempts = attempts + 1,
                next_attempt_at = :leaseUntil,
                message_id = COALESCE(message_id,
                  '<outbox-' || id || '.' || lower(hex(randomblob(8))) || '@odoo-paylink>'),
                updated_at = :now
          WHERE id IN (SELECT id FROM outbox
                        WHERE state IN ('queued', 'sending') AND next_attempt_at <= :now
                        ORDER BY next_attempt_at, id
                        LIMIT :limit)
        RETURNING *`,
      ),
      markSent: db.prepare<[string, number, number, number]>(
        `UPDATE outbox SET state = 'sent', message_id = ?, sent_at = ?, updated_at = ?, last_error = NULL
          WHERE id = ? AND state = 'sending'`,
      ),
      markRetry: db.prepare<[string, number, number, number]>(
        `UPDATE outbox SET state = 'queued', last_error = ?, next_attempt_at = ?, updated_at = ?
          WHERE id = ? AND state = 'sending'`,
      ),
      markFailed: db.prepare<[string, number, number]>(
        `UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ?
          WHERE id = ? AND state IN ('queued', 'sending')`,
      ),
      markNoRecipient: db.prepare<[number, number]>(
        `UPDATE outbox SET state = 'no_recipient', last_error = 'the customer has no valid email address',
                updated_at = ?
          WHERE id = ? AND state IN ('queued', 'sending')`,
      ),
      moveToLink: db.prepare<[number, string, number, number], DbRow>(
        `UPDATE outbox SET link_row_id = ?, payload = ?, updated_at = ?
          WHERE id = ? AND state = 'sending'
        RETURNING *`,
      ),
      markDropped: db.prepare<[string, number, number]>(
        `UPDATE outbox SET state = 'dropped', last_error = ?, updated_at = ?
          WHERE id = ? AND state IN ('queued', 'sending')`,
      ),
      anyForInvoice: db.prepare<[number], { n: number }>(
        "SELECT COUNT(*) AS n FROM outbox WHERE invoice_id = ? AND kind = 'invoice'",
      ),
      resendKeys: db.prepare<[number, string], { dedupe_key: string }>(
        'SELECT dedupe_key FROM outbox WHERE link_row_id = ? AND dedupe_key LIKE ?',
      ),
      counts: db.prepare<[], { state: OutboxState; n: number }>(
        'SELECT state, COUNT(*) AS n FROM outbox GROUP BY state',
      ),
      failures: db.prepare<[number], DbRow>(
        "SELECT * FROM outbox WHERE state = 'failed' ORDER BY updated_at DESC, id DESC LIMIT ?",
      ),
      sentByKind: db.prepare<[], { kind: EmailKind; n: number }>(
        "SELECT kind, COUNT(*) AS n FROM outbox WHERE state = 'sent' GROUP BY kind",
      ),
      byInvoice: db.prepare<[number], DbRow>('SELECT * FROM outbox WHERE invoice_id = ? ORDER BY id'),
      byId: db.prepare<[number], DbRow>('SELECT * FROM outbox WHERE id = ?'),
      held: db.prepare<[number, number], { n: number }>(
        "SELECT COUNT(*) AS n FROM outbox WHERE link_row_id = ? AND state = 'queued' AND next_attempt_at = ?",
      ),
      release: db.prepare<[number, number, number, number]>(
        `UPDATE outbox SET next_attempt_at = ?, updated_at = ?
          WHERE link_row_id = ? AND state = 'queued' AND next_attempt_at = ?`,
      ),
    };
  }

  /**
   * Queues an email unless one with this dedupe key exists. Synchronous and without its own
   * transaction, so the caller can queue in the same transaction that records the link.
   */
  enqueue(input: EnqueueInput): EnqueueResult {
    const payload = JSON.stringify(parseInvoiceEmail(input.payload));
    const info = this.stmts.insert.run(
      input.linkRowId,
      input.invoiceId,
      input.companyId,
      input.kind ?? 'invoice',
      input.dedupeKey,
      payload,
      input.held ? HELD_UNTIL : input.now,
      input.now,
      input.now,
    );
    const row = this.stmts.byKey.get(input.dedupeKey);
    if (!row) throw new Error(`outbox row ${input.dedupeKey} vanished right after insert`);
    return { row: toRow(row), inserted: info.changes === 1 };
  }

  /** Whether an email of this link waits for release(). */
  isHeld(linkRowId: number): boolean {
    return (this.stmts.held.get(linkRowId, HELD_UNTIL)?.n ?? 0) > 0;
  }

  /** Makes the held emails of a link due now. */
  release(linkRowId: number, now: number): number {
    return this.stmts.release.run(now, now, linkRowId, HELD_UNTIL).changes;
  }

  /**
   * Takes up to `limit` due rows: queued rows whose time has come and sending rows whose lease
   * expired (their worker died mid-send). Each claim counts as an attempt.
   */
  claimDue(now: number, limit: number): OutboxRow[] {
    return this.stmts.claim
      .all({ now, leaseUntil: now + this.leaseMs, limit })
      .map(toRow)
      .sort((a, b) => a.id - b.id);
  }

  /** Each mark returns false when the row was not in a state that allows the transition. */
  markSent(id: number, messageId: string, now: number): boolean {
    return this.stmts.markSent.run(messageId, now, now, id).changes === 1;
  }

  markRetry(id: number, error: string, nextAt: number, now: number = this.clock()): boolean {
    return this.stmts.markRetry.run(clip(error), nextAt, now, id).changes === 1;
  }

  markFailed(id: number, error: string, now: number = this.clock()): boolean {
    return this.stmts.markFailed.run(clip(error), now, id).changes === 1;
  }

  markNoRecipient(id: number, now: number = this.clock()): boolean {
    return this.stmts.markNoRecipient.run(now, id).changes === 1;
  }

  /**
   * Moves a claimed row onto the link that replaced its own, with the payload rewritten for it;
   * undefined when the row is no longer claimed.
   */
  moveToLink(
    id: number,
    linkRowId: number,
    payload: string,
    now: number = this.clock(),
  ): OutboxRow | undefined {
    const raw = this.stmts.moveToLink.get(linkRowId, payload, now, id);
    return raw && toRow(raw);
  }

  /** Not sent because the invoice can no longer be paid (or the link is gone) when its turn came. */
  markDropped(id: number, reason: string, now: number = this.clock()): boolean {
    return this.stmts.markDropped.run(clip(reason), now, id).changes === 1;
  }

  /** Whether the invoice's first email was ever queued (sent, dropped or still waiting). */
  hasFirstEmail(invoiceId: number): boolean {
    return (this.stmts.anyForInvoice.get(invoiceId)?.n ?? 0) > 0;
  }

  /** The dedupe key for the next manual resend of a link's email: 'resend:<link>:<n>'. */
  nextResendKey(linkRowId: number): string {
    const prefix = `resend:${linkRowId}:`;
    let highest = 0;
    // Forced resends carry a prefix before theirs ('forced:resend:…') and share the numbering.
    for (const { dedupe_key } of this.stmts.resendKeys.all(linkRowId, `%${prefix}%`)) {
      const n = Number(dedupe_key.slice(dedupe_key.indexOf(prefix) + prefix.length));
      if (Number.isSafeInteger(n) && n > highest) highest = n;
    }
    return `${prefix}${highest + 1}`;
  }

  countsByState(): Record<OutboxState, number> {
    const counts = Object.fromEntries(OUTBOX_STATES.map((s) => [s, 0])) as Record<OutboxState, number>;
    for (const { state, n } of this.stmts.counts.all()) counts[state] = n;
    return counts;
  }

  /** Emails sent, by what they were (first emails, reminders, resends). */
  sentByKind(): Record<EmailKind, number> {
    const counts: Record<EmailKind, number> = { invoice: 0, reminder: 0, resend: 0 };
    for (const { kind, n } of this.stmts.sentByKind.all()) counts[kind] = n;
    return counts;
  }

  recentFailures(limit: number): OutboxRow[] {
    return this.stmts.failures.all(limit).map(toRow);
  }

  findByInvoice(invoiceId: number): OutboxRow[] {
    return this.stmts.byInvoice.all(invoiceId).map(toRow);
  }

  findById(id: number): OutboxRow | undefined {
    const row = this.stmts.byId.get(id);
    return row ? toRow(row) : undefined;
  }
}
