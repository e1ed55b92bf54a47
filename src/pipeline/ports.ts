import type { Invoice } from '../domain/invoice.js';
import type { Money } from '../domain/money.js';

/**
 * What the pipeline needs from the accounting system. The Odoo adapter (src/odoo/ledger.ts)
 * implements it; tests and other ERPs could too.
 */

export interface InvoiceCursor {
  /** Odoo write_date, 'YYYY-MM-DD HH:MM:SS' UTC. */
  readonly writeDate: string;
  readonly id: number;
}

export interface RegisteredPayment {
  readonly id: number;
  readonly amount: Money;
  readonly memo: string;
}

/** How a company presents itself to its customers (name, email, website from res.company). */
export interface CompanyContact {
  readonly id: number;
  readonly name: string;
  readonly email: string | null;
  readonly website: string | null;
}

export interface InvoiceLedger {
  /** Customer invoices of a company written after `after` (keyset on write_date, id), oldest first. */
  changedInvoices(companyId: number, after: InvoiceCursor, limit: number): Promise<Invoice[]>;
  /** The most recently written customer invoice of a company (cursor start for a full sweep). */
  latestChange(companyId: number): Promise<InvoiceCursor | null>;
  /** Posted customer invoices still to be paid, by ascending id after `afterId` (the full sweep). */
  openInvoices(companyId: number, afterId: number, limit: number): Promise<Invoice[]>;
  invoicesByIds(companyId: number, ids: readonly number[]): Promise<Invoice[]>;
  /** Writes the link id and URL onto the invoice (x_mytpe_link_id, x_mytpe_payment_link). */
  writeLink(invoice: { id: number; companyId: number }, link: { id: string; url: string }): Promise<void>;
  /** The company's name and contact details, read once and cached. */
  companyContact(companyId: number): Promise<CompanyContact>;
  /** Empties the link fields of an invoice whose link was archived, so nobody follows a dead URL. */
  clearLink(invoice: { id: number; companyId: number }): Promise<void>;
  /** The payment already registered with this memo (the gateway transaction id), if any. */
  findPaymentByMemo(companyId: number, memo: string): Promise<RegisteredPayment | null>;
  /** Which of these memos have a payment in Odoo (reconciliation checks many at once). */
  paymentMemosPresent(companyId: number, memos: readonly string[]): Promise<Set<string>>;
  /** Registers a payment on the invoice through account.payment.register; returns the account.payment id. */
  registerPayment(
    invoice: { id: number; companyId: number },
    payment: { journalId: number; amount: Money; date: string; memo: string },
  ): Promise<number>;
  /**
   * Posts an internal note in the invoice's chatter, carrying `marker`. With `checkFirst`, does
   * nothing when a message with that marker is already there (a retry after a crash between
   * posting and recording it).
   */
  postNote(
    invoice: { id: number; companyId: number },
    html: string,
    marker: string,
    options: { checkFirst: boolean },
  ): Promise<'posted' | 'already_posted'>;
}
