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
  -- One current link per invoice: a new one only after the previous was closed or expired.
  CREATE UNIQUE INDEX links_one_current ON links(invoice_id) WHERE state NOT IN ('closed','expired');
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
];
