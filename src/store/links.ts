import type Database from 'better-sqlite3';
import { allowedFrom, type LinkState, REPLACEABLE_STATES } from '../domain/link-state.js';
import type { Money } from '../domain/money.js';
import type { Db } from './database.js';

export interface LinkRow {
  readonly id: number;
  readonly gateway: string;
  readonly companyId: number;
  readonly invoiceId: number;
  readonly invoiceName: string;
  readonly sequence: number;
  readonly reference: string;
  readonly amount: Money;
  readonly linkId: string | null;
  readonly linkUrl: string | null;
  readonly state: LinkState;
  readonly stateReason: string | null;
  readonly failedStep: LinkState | null;
  readonly transactionId: string | null;
  readonly paidMinor: number | null;
  readonly paidCurrency: string | null;
  readonly odooPaymentId: number | null;
  /** When the gateway says the money arrived (epoch ms), when it says. */
  readonly paidAt: number | null;
  /** GatewayLink.context: what the gateway needs to be told again about the link. */
  readonly gatewayContext: string | null;
  /** GatewayLink.charge: what the customer is charged, in words, when not the invoice amount. */
  readonly charge: string | null;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | null;
  readonly leaseOwner: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

interface RawLinkRow {
  id: number;
  gateway: string;
  company_id: number;
  invoice_id: number;
  invoice_name: string;
  sequence: number;
  reference: string;
  amount_minor: number;
  currency: string;
  decimals: number;
  link_id: string | null;
  link_url: string | null;
  state: LinkState;
  state_reason: string | null;
  failed_step: LinkState | null;
  transaction_id: string | null;
  paid_minor: number | null;
  paid_currency: string | null;
  odoo_payment_id: number | null;
  paid_at: number | null;
  gateway_context: string | null;
  charge: string | null;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  lease_owner: string | null;
  created_at: number;
  updated_at: number;
}

function toRow(raw: RawLinkRow): LinkRow {
  return {
    id: raw.id,
    gateway: raw.gateway,
    companyId: raw.company_id,
    invoiceId: raw.invoice_id,
    invoiceName: raw.invoice_name,
    sequence: raw.sequence,
    reference: raw.reference,
    amount: { minor: raw.amount_minor, currency: raw.currency, decimals: raw.decimals },
    linkId: raw.link_id,
    linkUrl: raw.link_url,
    state: raw.state,
    stateReason: raw.state_reason,
    failedStep: raw.failed_step,
    transactionId: raw.transaction_id,
    paidMinor: raw.paid_minor,
    paidCurrency: raw.paid_currency,
    odooPaymentId: raw.odoo_payment_id,
    paidAt: raw.paid_at,
    gatewayContext: raw.gateway_context,
    charge: raw.charge,
    attempts: raw.attempts,
    nextAttemptAt: raw.next_attempt_at,
    lastError: raw.last_error,
    leaseOwner: raw.lease_owner,
    createdAt: raw.created_at,
    updatedAt: raw.updated_at,
  };
}

/** Columns a transition may set along with the state. */
export interface LinkPatch {
  failedStep?: LinkState;
  linkId?: string;
  linkUrl?: string;
  stateReason?: string | null;
  transactionId?: string;
  paidMinor?: number;
  paidCurrency?: string;
  odooPaymentId?: number;
  paidAt?: number | null;
  gatewayContext?: string | null;
  charge?: string | null;
}

const PATCH_COLUMNS: Readonly<Record<keyof LinkPatch, string>> = {
  failedStep: 'failed_step',
  linkId: 'link_id',
  linkUrl: 'link_url',
  stateReason: 'state_reason',
  transactionId: 'transaction_id',
  paidMinor: 'paid_minor',
  paidCurrency: 'paid_currency',
  odooPaymentId: 'odoo_payment_id',
  paidAt: 'paid_at',
  gatewayContext: 'gateway_context',
  charge: 'charge',
};

export interface NewLink {
  gateway: string;
  companyId: number;
  invoiceId: number;
  invoiceName: string;
  amount: Money;
  /** Builds the deterministic reference from the sequence number the store assigns. */
  reference: (sequence: number) => string;
  /**
   * The last sequence used for the invoice as Odoo records it: the store may have lost rows, so
   * the new number is above both what the store and what Odoo knows.
   */
  usedSequence?: number;
}

/** A link found on an invoice (x_mytpe_link_id) and verified ours at the gateway. */
export interface AdoptedLink {
  gateway: string;
  companyId: number;
  invoiceId: number;
  invoiceName: string;
  sequence: number;
  reference: string;
  amount: Money;
  linkId: string;
  linkUrl: string;
}

const replaceable = REPLACEABLE_STATES.map((state) => `'${state}'`).join(',');

/** The links table: one row per invoice link, every state change a committed transition. */
export class LinkRepository {
  private readonly statements;
  private readonly transitions = new Map<string, Database.Statement<[Record<string, unknown>], RawLinkRow>>();

  constructor(private readonly db: Db) {
    this.statements = {
      byId: db.prepare<[number], RawLinkRow>('SELECT * FROM links WHERE id = ?'),
      // The newest: a paid link may sit beside the replacement being closed for it.
      current: db.prepare<[number], RawLinkRow>(
        `SELECT * FROM links WHERE invoice_id = ? AND state NOT IN (${replaceable}) ORDER BY id DESC LIMIT 1`,
      ),
      maxSequence: db.prepare<[number], { sequence: number | null }>(
        'SELECT MAX(sequence) AS sequence FROM links WHERE invoice_id = ?',
      ),
      insert: db.prepare(
        `INSERT INTO links (gateway, company_id, invoice_id, invoice_name, sequence, reference, amount_minor,
           currency, decimals, state, next_attempt_at, created_at, updated_at)
         VALUES (@gateway, @companyId, @invoiceId, @invoiceName, @sequence, @reference, @amountMinor,
           @currency, @decimals, 'creating', 0, @now, @now)`,
      ),
      insertAdopted: db.prepare(
        `INSERT INTO links (gateway, company_id, invoice_id, invoice_name, sequence, reference, amount_minor,
           currency, decimals, link_id, link_url, state, state_reason, next_attempt_at, created_at, updated_at)
         VALUES (@gateway, @companyId, @invoiceId, @invoiceName, @sequence, @reference, @amountMinor,
           @currency, @decimals, @linkId, @linkUrl, 'open', 'adopted from Odoo', 0, @now, @now)
         ON CONFLICT DO NOTHING`,
      ),
      payable: db.prepare<[number], RawLinkRow>(
        `SELECT * FROM links WHERE invoice_id = ? AND state IN ('creating','writing_back','open')`,
      ),
      ofInvoice: db.prepare<[number], RawLinkRow>('SELECT * FROM links WHERE invoice_id = ? ORDER BY id'),
      invoiceIdsNamed: db.prepare<[string], { invoice_id: number }>(
        'SELECT DISTINCT invoice_id FROM links WHERE invoice_name = ?',
      ),
      // Not even its own holder may claim a held row again: two passes of one process must not
      // work on the same link at once (that is how a payment would be registered twice).
      claim: db.prepare<[string, number, number, number], RawLinkRow>(
        `UPDATE links SET lease_owner = ?, lease_expires_at = ?
         WHERE id = ? AND (lease_owner IS NULL OR lease_expires_at < ?) RETURNING *`,
      ),
      release: db.prepare<[number, string]>(
        'UPDATE links SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ?',
      ),
      failure: db.prepare<[string, number, number, number]>(
        'UPDATE links SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?',
      ),
      schedule: db.prepare<[number, number]>('UPDATE links SET next_attempt_at = ? WHERE id = ?'),
      postpone: db.prepare<[string, number, number, number]>(
        'UPDATE links SET last_error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?',
      ),
      byLinkId: db.prepare<[string, string], RawLinkRow>(
        'SELECT * FROM links WHERE gateway = ? AND link_id = ? ORDER BY id DESC LIMIT 1',
      ),
      byReference: db.prepare<[string, string], RawLinkRow>(
        'SELECT * FROM links WHERE gateway = ? AND reference = ?',
      ),
      byTransaction: db.prepare<[string, string], RawLinkRow>(
        'SELECT * FROM links WHERE gateway = ? AND transaction_id = ?',
      ),
      counts: db.prepare<[], { state: LinkState; count: number }>(
        'SELECT state, COUNT(*) AS count FROM links GROUP BY state ORDER BY state',
      ),
      failures: db.prepare<[number], RawLinkRow>(
        `SELECT * FROM links WHERE (last_error IS NOT NULL OR state IN ('mismatch','refund_needed','failed'))
           AND state NOT IN ('registered','closed')
         ORDER BY updated_at DESC LIMIT ?`,
      ),
      leaseOwners: db.prepare<[], { lease_owner: string }>(
        'SELECT DISTINCT lease_owner FROM links WHERE lease_owner IS NOT NULL',
      ),
      releaseOwner: db.prepare<[string]>(
        'UPDATE links SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ?',
      ),
    };
  }

  byId(id: number): LinkRow | undefined {
    const raw = this.statements.byId.get(id);
    return raw && toRow(raw);
  }

  /** The invoice's link that is not closed or expired, if any. */
  currentForInvoice(invoiceId: number): LinkRow | undefined {
    const raw = this.statements.current.get(invoiceId);
    return raw && toRow(raw);
  }

  byLinkId(gateway: string, linkId: string): LinkRow | undefined {
    const raw = this.statements.byLinkId.get(gateway, linkId);
    return raw && toRow(raw);
  }

  byReference(gateway: string, reference: string): LinkRow | undefined {
    const raw = this.statements.byReference.get(gateway, reference);
    return raw && toRow(raw);
  }

  byTransaction(gateway: string, transactionId: string): LinkRow | undefined {
    const raw = this.statements.byTransaction.get(gateway, transactionId);
    return raw && toRow(raw);
  }

  /**
   * Records the intent to create a link, committed before the gateway is called. Returns undefined
   * when the invoice already has a current link (another pass got there first).
   */
  insertCreating(link: NewLink, now: number): LinkRow | undefined {
    return this.db
      .transaction((): LinkRow | undefined => {
        if (this.statements.current.get(link.invoiceId)) return undefined;
        const stored = this.statements.maxSequence.get(link.invoiceId)?.sequence ?? 0;
        const sequence = Math.max(stored, link.usedSequence ?? 0) + 1;
        const result = this.statements.insert.run({
          gateway: link.gateway,
          companyId: link.companyId,
          invoiceId: link.invoiceId,
          invoiceName: link.invoiceName,
          sequence,
          reference: link.reference(sequence),
          amountMinor: link.amount.minor,
          currency: link.amount.currency,
          decimals: link.amount.decimals,
          now,
        });
        return this.byId(Number(result.lastInsertRowid));
      })
      .immediate();
  }

  /**
   * Records a link the invoice already carries (the store lost it, or another process made it) as
   * open, so its state is learnt from the gateway like any other. Undefined when the invoice
   * already has a current link or the reference is taken.
   */
  insertAdopted(link: AdoptedLink, now: number): LinkRow | undefined {
    return this.db
      .transaction((): LinkRow | undefined => {
        if (this.statements.current.get(link.invoiceId)) return undefined;
        const result = this.statements.insertAdopted.run({
          gateway: link.gateway,
          companyId: link.companyId,
          invoiceId: link.invoiceId,
          invoiceName: link.invoiceName,
          sequence: link.sequence,
          reference: link.reference,
          amountMinor: link.amount.minor,
          currency: link.amount.currency,
          decimals: link.amount.decimals,
          linkId: link.linkId,
          linkUrl: link.linkUrl,
          now,
        });
        return result.changes === 1 ? this.byId(Number(result.lastInsertRowid)) : undefined;
      })
      .immediate();
  }

  /** The invoice's link that can take money now (creating, writing_back or open), if any. */
  payableForInvoice(invoiceId: number): LinkRow | undefined {
    const raw = this.statements.payable.get(invoiceId);
    return raw && toRow(raw);
  }

  /** Every link row of an invoice, oldest first. */
  /** The invoices (ids) that had a link under this number, e.g. INV/2026/00042. */
  invoiceIdsNamed(name: string): number[] {
    return this.statements.invoiceIdsNamed.all(name).map((row) => row.invoice_id);
  }

  ofInvoice(invoiceId: number): LinkRow[] {
    return this.statements.ofInvoice.all(invoiceId).map(toRow);
  }

  /**
   * Moves a link to `to` if it is in one of the states `to` may start from; the patch is written
   * in the same statement. Returns the new row, or undefined when the transition did not apply.
   * Resets the retry bookkeeping, since the step that failed is behind us.
   */
  transition(
    id: number,
    to: LinkState,
    patch: LinkPatch,
    now: number,
    from: readonly LinkState[] = allowedFrom(to),
  ): LinkRow | undefined {
    const sets = [
      'state = @to',
      'updated_at = @now',
      'attempts = 0',
      'last_error = NULL',
      'next_attempt_at = 0',
    ];
    const params: Record<string, unknown> = { id, to, now };
    for (const [key, column] of Object.entries(PATCH_COLUMNS) as [keyof LinkPatch, string][]) {
      if (patch[key] === undefined) continue;
      sets.push(`${column} = @${key}`);
      params[key] = patch[key];
    }
    const states = from.map((_, index) => `@from${index}`);
    from.forEach((state, index) => {
      params[`from${index}`] = state;
    });
    if (states.length === 0) return undefined;
    const sql = `UPDATE links SET ${sets.join(', ')} WHERE id = @id AND state IN (${states.join(', ')}) RETURNING *`;
    // A handful of shapes recur (which columns, how many start states): prepare each once.
    let statement = this.transitions.get(sql);
    if (!statement) {
      statement = this.db.prepare<[Record<string, unknown>], RawLinkRow>(sql);
      this.transitions.set(sql, statement);
    }
    const raw = statement.get(params);
    return raw && toRow(raw);
  }

  /** Sets when the row is next due, without counting a failure (the next poll of an open link). */
  scheduleNextAttempt(id: number, nextAttemptAt: number): void {
    this.statements.schedule.run(nextAttemptAt, id);
  }

  /** Records why the row waits and until when, without counting an attempt against it. */
  postpone(id: number, reason: string, nextAttemptAt: number, now: number): void {
    this.statements.postpone.run(reason, nextAttemptAt, now, id);
  }

  /** Records a failed attempt at the current step and when to try again. */
  recordFailure(id: number, error: string, nextAttemptAt: number, now: number): void {
    this.statements.failure.run(error, nextAttemptAt, now, id);
  }

  /** Rows in the given states whose next attempt is due and that nobody holds. */
  due(states: readonly LinkState[], now: number, limit: number): LinkRow[] {
    const placeholders = states.map(() => '?').join(', ');
    return this.db
      .prepare<unknown[], RawLinkRow>(
        `SELECT * FROM links WHERE state IN (${placeholders}) AND next_attempt_at <= ?
           AND (lease_owner IS NULL OR lease_expires_at < ?)
         ORDER BY next_attempt_at, id LIMIT ?`,
      )
      .all(...states, now, now, limit)
      .map(toRow);
  }

  inStates(states: readonly LinkState[], companyId?: number): LinkRow[] {
    const placeholders = states.map(() => '?').join(', ');
    const company = companyId === undefined ? '' : ' AND company_id = ?';
    const params: unknown[] = companyId === undefined ? [...states] : [...states, companyId];
    return this.db
      .prepare<unknown[], RawLinkRow>(
        `SELECT * FROM links WHERE state IN (${placeholders})${company} ORDER BY id`,
      )
      .all(...params)
      .map(toRow);
  }

  /** Takes the row for this worker; undefined when another live worker holds it. */
  claim(id: number, owner: string, now: number, leaseMs: number): LinkRow | undefined {
    const raw = this.statements.claim.get(owner, now + leaseMs, id, now);
    return raw && toRow(raw);
  }

  release(id: number, owner: string): void {
    this.statements.release.run(id, owner);
  }

  /** Frees the leases of workers that are known dead (a crash leaves its leases behind). */
  releaseLeasesOf(isDead: (owner: string) => boolean): number {
    let released = 0;
    for (const { lease_owner: owner } of this.statements.leaseOwners.all()) {
      if (isDead(owner)) released += this.statements.releaseOwner.run(owner).changes;
    }
    return released;
  }

  /** Links registered (last changed) in [since, until), for reconciliation. */
  registeredBetween(since: number, until: number): LinkRow[] {
    return this.db
      .prepare<[number, number], RawLinkRow>(
        `SELECT * FROM links WHERE state = 'registered' AND updated_at >= ? AND updated_at < ? ORDER BY id`,
      )
      .all(since, until)
      .map(toRow);
  }

  /**
   * A gateway's links that could have been paid in a window: made before its end and still
   * payable, or changed within it (reconcile reads them one by one where the gateway cannot list).
   */
  checkableBetween(gateway: string, since: number, until: number): LinkRow[] {
    return this.db
      .prepare<[string, number, number], RawLinkRow>(
        `SELECT * FROM links WHERE gateway = ? AND link_id IS NOT NULL AND created_at < ?
           AND (state IN ('writing_back', 'open') OR updated_at >= ?) ORDER BY id`,
      )
      .all(gateway, until, since)
      .map(toRow);
  }

  /** The decimals recorded for a currency on any link (the currency's exponent from Odoo). */
  decimalsOf(currency: string): number | undefined {
    return this.db
      .prepare<[string], { decimals: number }>('SELECT decimals FROM links WHERE currency = ? LIMIT 1')
      .get(currency)?.decimals;
  }

  countsByState(): Array<{ state: LinkState; count: number }> {
    return this.statements.counts.all();
  }

  /** When the oldest link still waiting for its customer (state open) was made, if any. */
  oldestOpenCreatedAt(): number | undefined {
    return (
      this.db
        .prepare<[], { at: number | null }>(`SELECT MIN(created_at) AS at FROM links WHERE state = 'open'`)
        .get()?.at ?? undefined
    );
  }

  recentFailures(limit: number): LinkRow[] {
    return this.statements.failures.all(limit).map(toRow);
  }
}
