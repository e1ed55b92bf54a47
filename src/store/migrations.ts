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
  `
  -- What the daemon remembers about the Odoo database and its gateways (the reference prefix,
  -- webhook secrets set up through a gateway's API, alerts that stop work), as JSON values.
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );

  -- At most one link per invoice that can take money. A paid link beside a replacement that is
  -- being closed (money that arrived on an expired link) is allowed; two payable ones are not.
  DROP INDEX links_one_current;
  CREATE UNIQUE INDEX links_one_payable ON links(invoice_id) WHERE state IN ('creating','writing_back','open');
  CREATE INDEX links_invoice ON links(invoice_id);
  -- When the gateway says the money arrived: the payment is dated that day in the company's zone.
  ALTER TABLE links ADD COLUMN paid_at INTEGER;

  -- Facts about an invoice that has no link of ours: it carries another deployment's link, or it
  -- is in a currency its gateway cannot charge. One row per invoice and kind, so it is said once.
  CREATE TABLE invoice_notices (
    invoice_id INTEGER NOT NULL,
    company_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, kind)
  );

  -- Notes may now concern an invoice without a link of ours, and carry the marker they are found by.
  CREATE TABLE notes_v3 (
    id INTEGER PRIMARY KEY,
    link_row_id INTEGER REFERENCES links(id),
    company_id INTEGER NOT NULL,
    invoice_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    marker TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending','posted')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    posted_at INTEGER,
    UNIQUE (link_row_id, kind)
  );
  INSERT INTO notes_v3 (id, link_row_id, company_id, invoice_id, kind, marker, body, state, attempts,
                        next_attempt_at, last_error, created_at, posted_at)
    SELECT n.id, n.link_row_id, n.company_id, n.invoice_id, n.kind,
           '[odoo-paylink ' || l.reference || ' ' || n.kind || ']', n.body, n.state, n.attempts,
           n.next_attempt_at, n.last_error, n.created_at, n.posted_at
      FROM notes n JOIN links l ON l.id = n.link_row_id;
  DROP TABLE notes;
  ALTER TABLE notes_v3 RENAME TO notes;
  CREATE INDEX notes_pending ON notes(state, next_attempt_at);
  CREATE UNIQUE INDEX notes_invoice_kind ON notes(invoice_id, kind) WHERE link_row_id IS NULL;
  `,
  `
  -- An email whose invoice can no longer be paid when its turn comes is dropped, not sent; and
  -- each email says what it is (the first one of an invoice, a reminder, a resend on request).
  CREATE TABLE outbox_v4 (
    id INTEGER PRIMARY KEY,
    link_row_id INTEGER NOT NULL,
    invoice_id INTEGER NOT NULL,
    company_id INTEGER NOT NULL,
    kind TEXT NOT NULL DEFAULT 'invoice' CHECK (kind IN ('invoice','reminder','resend')),
    dedupe_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued','sending','sent','failed','no_recipient','dropped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    message_id TEXT,
    sent_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  INSERT INTO outbox_v4 (id, link_row_id, invoice_id, company_id, kind, dedupe_key, payload, state,
                         attempts, next_attempt_at, last_error, message_id, sent_at, created_at, updated_at)
    SELECT id, link_row_id, invoice_id, company_id,
           CASE WHEN dedupe_key LIKE 'resend:%' THEN 'resend' ELSE 'invoice' END,
           dedupe_key, payload, state, attempts, next_attempt_at, last_error, message_id, sent_at,
           created_at, updated_at
      FROM outbox;
  DROP TABLE outbox;
  ALTER TABLE outbox_v4 RENAME TO outbox;
  CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
  CREATE INDEX outbox_invoice ON outbox(invoice_id);

  -- Each emailed invoice's place in its reminder schedule (see src/store/reminders.ts).
  CREATE TABLE reminders (
    invoice_id INTEGER PRIMARY KEY,
    company_id INTEGER NOT NULL,
    first_email_at INTEGER NOT NULL,
    last_email_at INTEGER NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER
  );
  CREATE INDEX reminders_due ON reminders(next_at) WHERE next_at IS NOT NULL;
  `,
  `
  -- What a gateway must be told again about a link and cannot look up (TiloPay's OrderHash inputs,
  -- MPChat's rate), and what the customer was charged when not the invoice amount (chatter).
  ALTER TABLE links ADD COLUMN gateway_context TEXT;
  ALTER TABLE links ADD COLUMN charge TEXT;
  -- The transactions notices and redirects named for a link (TendoPay can show a transaction, not an order).
  CREATE INDEX events_link ON events(gateway, link_id) WHERE transaction_id IS NOT NULL;
  `,
  `
  -- What each invoice shows of its online payment (x_paylink_state…) and the To-Do activity of one
  -- that needs a person: wanted here first, then written to Odoo by the status sweep.
  CREATE TABLE invoice_statuses (
    invoice_id INTEGER PRIMARY KEY,
    company_id INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open','paid','replaced','expired','archived','attention')),
    reason TEXT,
    -- What a person must look at, for status attention: mismatch, refund_needed, creation_refused…
    attention_kind TEXT,
    changed_at INTEGER NOT NULL,
    -- Bumped on every change, so a sweep never marks a newer status as shown.
    revision INTEGER NOT NULL DEFAULT 0,
    shown_revision INTEGER NOT NULL DEFAULT -1,
    activity_id INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
  );
  CREATE INDEX invoice_statuses_due ON invoice_statuses(next_attempt_at) WHERE shown_revision < revision;

  -- Requests an accountant made from the invoice's Action menu, once carried out, keyed by the
  -- invoice's write_date when the request was read: a retry after a crash never repeats one.
  CREATE TABLE invoice_requests (
    invoice_id INTEGER NOT NULL,
    seen_write_date TEXT NOT NULL,
    request TEXT NOT NULL,
    outcome TEXT NOT NULL,
    handled_at INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, seen_write_date)
  );
  `,
];
