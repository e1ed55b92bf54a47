/**
 * Schema migrations, applied in order and never edited once released: a change is a new entry.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE links (
    id INTEGER PRIMARY KEY,
    gateway TEXT NOT NULL,
    company_id INTEGER NOT NULL,
    invoice_id INTEGER NOT NULL,
    invoice_name TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    reference TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    decimals INTEGER NOT NULL,
    link_id TEXT,
    link_url TEXT,
    state TEXT NOT NULL CHECK (state IN ('creating','writing_back','open','paid','registered','mismatch',
                                         'refund_needed','closing','closed','expired','failed')),
    state_reason TEXT,
    -- The step a failed link failed at, so an admin's retry resumes it.
    failed_step TEXT,
    transaction_id TEXT,
    paid_minor INTEGER,
    paid_currency TEXT,
    odoo_payment_id INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (gateway, reference),
    UNIQUE (invoice_id, sequence)
  );
  -- One current link per invoice: a new one only after the previous was closed or expired (or
  -- was paid after that and waits for a refund).
  CREATE UNIQUE INDEX links_one_current ON links(invoice_id) WHERE state NOT IN ('closed','expired','refund_needed');
  CREATE INDEX links_due ON links(state, next_attempt_at);
  CREATE UNIQUE INDEX links_transaction ON links(gateway, transaction_id) WHERE transaction_id IS NOT NULL;
  CREATE INDEX links_link_id ON links(gateway, link_id);

  CREATE TABLE cursors (
    company_id INTEGER PRIMARY KEY,
    write_date TEXT NOT NULL,
    invoice_id INTEGER NOT NULL,
    last_full_sweep_at INTEGER
  );

  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    outcome TEXT CHECK (outcome IN ('ok','partial','failed')),
    summary TEXT
  );
  CREATE INDEX runs_kind ON runs(kind, started_at);
  `,
  `
  -- Webhook inbox: every verified event is stored before it is acknowledged.
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    gateway TEXT NOT NULL,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    link_id TEXT,
    link_reference TEXT,
    transaction_id TEXT,
    concerns_payment INTEGER NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending','processed','ignored','unknown_link')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    received_at INTEGER NOT NULL,
    processed_at INTEGER,
    UNIQUE (gateway, event_id)
  );
  CREATE INDEX events_pending ON events(state, next_attempt_at);

  -- Chatter notes owed to Odoo, queued in the transaction of the state change they report.
  CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    link_row_id INTEGER NOT NULL REFERENCES links(id),
    company_id INTEGER NOT NULL,
    invoice_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending','posted')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    posted_at INTEGER,
    UNIQUE (link_row_id, kind)
  );
  CREATE INDEX notes_pending ON notes(state, next_attempt_at);

  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    link_row_id INTEGER NOT NULL,
    invoice_id INTEGER NOT NULL,
    company_id INTEGER NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued','sending','sent','failed','no_recipient')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    message_id TEXT,
    sent_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
  `,
];
