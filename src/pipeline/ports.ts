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

/** An account.payment as the pipeline needs it to decide whether it is an invoice's payment. */
export interface LedgerPayment {
  readonly id: number;
  readonly memo: string;
  readonly amount: Money;
  readonly partnerId: number | null;
  readonly journalId: number | null;
  /** draft | in_process | paid | posted | canceled | cancel | rejected… as the version names them. */
  readonly state: string;
  /** The invoices it pays (invoice_ids on 18+, reconciled_invoice_ids before). */
  readonly invoiceIds: readonly number[];
}

/** A link as written onto its invoice. */
export interface LinkOnInvoice {
  readonly gateway: string;
  readonly id: string;
  /** The gateway's own URL of the link. */
  readonly url: string;
  /** The invoice's pay page, shown instead of the gateway URL when the daemon has one. */
  readonly payAddress?: string | undefined;
  readonly sequence: number;
  readonly emailedAt?: string | undefined;
}

/** How a company presents itself to its customers (name, email, website from res.company). */
export interface CompanyContact {
  readonly id: number;
  readonly name: string;
  readonly email: string | null;
  readonly website: string | null;
  /** IANA time zone of the company (its partner's tz), the day a payment is dated in. */
  readonly timezone: string | null;
  /** Odoo's language code of the company's partner (fr_FR…): the accountants' language, for notes. */
  readonly lang: string | null;
}

/**
 * Odoo refused a chatter note because the user the daemon acts as has no email address (Odoo 16
 * to 18 require one to post). Waiting helps only once an admin sets it.
 */
export class SenderEmailMissingError extends Error {
  override name = 'SenderEmailMissingError';
}

/** The online payment's state as the invoice form shows it, already in the accountant's words. */
export interface StatusOnInvoice {
  readonly words: string;
  readonly attention: boolean;
  /** 'YYYY-MM-DD HH:MM:SS' UTC. */
  readonly changedAt: string;
}

export interface InvoiceLedger {
  /** Customer invoices of a company written after `after` (keyset on write_date, id), oldest first. */
  changedInvoices(companyId: number, after: InvoiceCursor, limit: number): Promise<Invoice[]>;
  /** The most recently written customer invoice of a company (cursor start for a full sweep). */
  latestChange(companyId: number): Promise<InvoiceCursor | null>;
  /** Posted customer invoices still to be paid, by ascending id after `afterId` (the full sweep). */
  openInvoices(companyId: number, afterId: number, limit: number): Promise<Invoice[]>;
  /** Customer invoices carrying a link id (any state), by ascending id after `afterId` (rebuild). */
  linkedInvoices(companyId: number, afterId: number, limit: number): Promise<Invoice[]>;
  invoicesByIds(companyId: number, ids: readonly number[]): Promise<Invoice[]>;
  /** The invoice date of the oldest invoice that ever had a link of ours (where publishing began). */
  oldestLinkedInvoiceDate(companyIds: readonly number[]): Promise<string | null>;
  /** Partner tag ids by name (several tags may share a name). */
  partnerTagIds(names: readonly string[], companyIds: readonly number[]): Promise<Map<string, number[]>>;
  /**
   * Writes the link onto the invoice in one write: gateway, id and pay address (x_paylink_gateway,
   * x_paylink_id, x_paylink_url, and for MyTPE x_mytpe_link_id and x_mytpe_payment_link), its
   * number (x_paylink_last_sequence) and, when the customer is being emailed, when
   * (x_paylink_emailed_at).
   */
  writeLink(
    invoice: { id: number; companyId: number },
    link: LinkOnInvoice,
    status?: StatusOnInvoice,
  ): Promise<void>;
  /** Shows the online payment's state on the invoice form (x_paylink_state, …_attention, …_state_at). */
  writeStatus(invoice: { id: number; companyId: number }, status: StatusOnInvoice): Promise<void>;
  /**
   * Answers an accountant's request from the Action menu: clears x_paylink_request and, with
   * `stop`, ticks "do not send" (x_paylink_skip) in the same write.
   */
  clearRequest(invoice: { id: number; companyId: number }, options: { stop: boolean }): Promise<void>;
  /** The open To-Do activities on the invoice with this summary (a retry finds the one it made). */
  findActivities(invoice: { id: number; companyId: number }, summary: string): Promise<number[]>;
  /** Schedules a To-Do on the invoice, for `userId` (the bot when null); returns its id. */
  scheduleActivity(
    invoice: { id: number; companyId: number },
    activity: { summary: string; note: string; userId: number | null },
  ): Promise<number>;
  /** Marks a To-Do done with a feedback line; one a person already closed is fine. */
  finishActivity(companyId: number, activityId: number, feedback: string): Promise<void>;
  /**
   * 1 `from` = rate `to` by Odoo's own rates on or before `date` ('YYYY-MM-DD'), as exact decimal
   * text with the day of the rate used; undefined when Odoo has no rate for one of them.
   */
  currencyRate(
    companyId: number,
    from: string,
    to: string,
    date: string,
  ): Promise<{ rate: string; date: string | null } | undefined>;
  /**
   * Records in Odoo that the customer is being sent reminder number `remindersSent` now
   * (x_paylink_emailed_at, x_paylink_reminders_sent), before the email is queued.
   */
  recordReminder(
    invoice: { id: number; companyId: number },
    reminder: { emailedAt: string; remindersSent: number },
  ): Promise<void>;
  /** The company's name and contact details, read once and cached. */
  companyContact(companyId: number): Promise<CompanyContact>;
  /**
   * Empties the link fields of an invoice whose link is being archived, so nobody follows a dead
   * URL, and records the link's number so it is never used again.
   */
  clearLink(invoice: { id: number; companyId: number }, link: { sequence: number }): Promise<void>;
  /** Every payment not cancelled whose memo is one of these, in one query. */
  paymentsByMemo(companyId: number, memos: readonly string[]): Promise<LedgerPayment[]>;
  /** Registers a payment on the invoice through account.payment.register; returns the account.payment id. */
  registerPayment(
    invoice: { id: number; companyId: number },
    payment: { journalId: number; amount: Money; date: string; memo: string },
  ): Promise<number>;
  /**
   * Posts an internal note in the invoice's chatter with `marker` as its Message-Id (kept by
   * Odoo, never shown). With `checkFirst`, does nothing when a message with that Message-Id is
   * already there (a retry after a crash between posting and recording it). Throws SenderEmailMissingError when Odoo wants the bot's email.
   */
  postNote(
    invoice: { id: number; companyId: number },
    html: string,
    marker: string,
    options: { checkFirst: boolean },
  ): Promise<'posted' | 'already_posted'>;
}
