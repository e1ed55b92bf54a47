import { exclusionOf, type Invoice, isPayable, type PublishScope } from '../domain/invoice.js';
import {
  isDaytime,
  nextDaytime,
  nextReminderAt,
  type ReminderPolicy,
  zonedDay,
} from '../domain/reminders.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/database.js';
import type { LinkRepository, LinkRow } from '../store/links.js';
import type { ReminderRepository, ReminderRow } from '../store/reminders.js';
import type { CompanyContact, InvoiceLedger } from './ports.js';
import { odooDateTime } from './steps.js';

/** What a due reminder hands to whoever emails it (the mail service), inside the transaction that records it. */
export interface ReminderDue {
  readonly invoice: Invoice;
  readonly company: CompanyContact;
  /** 1 for the first reminder. */
  readonly number: number;
  /** The due date, once it has passed in the company's zone. */
  readonly overdueSince: string | null;
}

export interface ReminderScheduleDeps {
  readonly db: Db;
  readonly ledger: InvoiceLedger;
  readonly links: LinkRepository;
  readonly reminders: ReminderRepository;
  readonly policy: ReminderPolicy;
  readonly scope: PublishScope;
  /** Where a company's partner has no (valid) tz. */
  readonly defaultTimezone: string;
  readonly log: Logger;
  readonly now: () => number;
  /** Queues the reminder email; runs inside the transaction that counts it. */
  readonly send: (link: LinkRow, due: ReminderDue) => void;
}

const BATCH = 200;
/** An invoice whose link is being replaced right now is looked at again after this. */
const LINK_PENDING_RETRY_MS = 60 * 60_000;

function odooInstant(value: string | null): number {
  return value ? Date.parse(`${value.replace(' ', 'T')}Z`) || 0 : 0;
}

function validZone(zone: string | null, fallback: string): string {
  if (!zone) return fallback;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    return fallback;
  }
}

/**
 * Reminders instead of one email per link: after the first email, the customer of an invoice
 * still open is reminded on the merchant's schedule (src/domain/reminders.ts), at most `max`
 * times, in the company's daytime, and never once the invoice is paid, cancelled or excluded.
 * Odoo is told before each reminder is queued, so a lost store never sends one twice.
 */
export class ReminderSchedule {
  constructor(private readonly deps: ReminderScheduleDeps) {}

  /** Starts the schedule of an invoice whose first email is being queued (in that transaction). */
  start(invoice: Invoice, company: CompanyContact, at: number): void {
    const row = {
      invoiceId: invoice.id,
      companyId: invoice.companyId,
      firstEmailAt: at,
      lastEmailAt: at,
      sent: 0,
    };
    this.deps.reminders.seed(row, this.next(row, invoice, company) ?? null);
  }

  /**
   * Takes up the schedule of an invoice adopted from Odoo (a lost or new store) where Odoo says
   * its customer was emailed, with Odoo's count of reminders.
   */
  async adopt(invoice: Invoice): Promise<void> {
    if (invoice.emailedAt === null || this.deps.reminders.get(invoice.id)) return;
    const company = await this.deps.ledger.companyContact(invoice.companyId);
    const at = odooInstant(invoice.emailedAt);
    const row = {
      invoiceId: invoice.id,
      companyId: invoice.companyId,
      firstEmailAt: at,
      lastEmailAt: at,
      sent: invoice.remindersSent,
    };
    this.deps.reminders.seed(row, this.next(row, invoice, company) ?? null);
  }

  /** Queues the reminders that are due; reads Odoo only for those. Returns how many were queued. */
  async run(): Promise<number> {
    const { reminders, ledger, now } = this.deps;
    const due = reminders.due(now(), BATCH);
    if (due.length === 0) return 0;
    const byCompany = new Map<number, ReminderRow[]>();
    for (const row of due) byCompany.set(row.companyId, [...(byCompany.get(row.companyId) ?? []), row]);
    let queued = 0;
    for (const [companyId, rows] of byCompany) {
      const company = await ledger.companyContact(companyId);
      const invoices = new Map(
        (
          await ledger.invoicesByIds(
            companyId,
            rows.map((row) => row.invoiceId),
          )
        ).map((invoice) => [invoice.id, invoice]),
      );
      for (const row of rows) if (await this.remind(row, invoices.get(row.invoiceId), company)) queued++;
    }
    return queued;
  }

  private async remind(
    row: ReminderRow,
    invoice: Invoice | undefined,
    company: CompanyContact,
  ): Promise<boolean> {
    const { reminders, links, ledger, db, now, log, policy } = this.deps;
    if (!invoice || !isPayable(invoice) || exclusionOf(invoice, this.deps.scope)) {
      reminders.reschedule(row.invoiceId, null);
      return false;
    }
    const link = links.currentForInvoice(row.invoiceId);
    if (link?.state !== 'open') {
      reminders.reschedule(row.invoiceId, now() + LINK_PENDING_RETRY_MS);
      return false;
    }
    // Odoo is the record: another daemon (or this one before its store was lost) may have sent more.
    const known = {
      ...row,
      sent: Math.max(row.sent, invoice.remindersSent),
      lastEmailAt: Math.max(row.lastEmailAt, odooInstant(invoice.emailedAt)),
    };
    const next = this.next(known, invoice, company);
    const at = now();
    const zone = validZone(company.timezone, this.deps.defaultTimezone);
    if (next === undefined || next > at) {
      reminders.reschedule(row.invoiceId, next ?? null);
      return false;
    }
    if (!isDaytime(at, zone, policy)) {
      reminders.reschedule(row.invoiceId, nextDaytime(at, zone, policy));
      return false;
    }
    const number = known.sent + 1;
    await ledger.recordReminder(invoice, { emailedAt: odooDateTime(at), remindersSent: number });
    const after = this.next({ ...known, sent: number, lastEmailAt: at }, invoice, company);
    const dueDate = invoice.dueDate || null;
    const overdueSince = dueDate !== null && zonedDay(at, zone) > dueDate ? dueDate : null;
    const recorded = db
      .transaction(() => {
        if (!reminders.record(row.invoiceId, row.sent, number, at, after ?? null)) return false;
        this.deps.send(link, { invoice, company, number, overdueSince });
        return true;
      })
      .immediate();
    if (recorded)
      log.info(`reminder ${number} of invoice ${invoice.name} queued for its customer`, {
        invoice: invoice.name,
      });
    return recorded;
  }

  private next(
    row: Pick<ReminderRow, 'firstEmailAt' | 'lastEmailAt' | 'sent'>,
    invoice: Invoice,
    company: CompanyContact,
  ): number | undefined {
    return nextReminderAt({
      policy: this.deps.policy,
      timezone: validZone(company.timezone, this.deps.defaultTimezone),
      dueDate: invoice.dueDate || null,
      firstEmailAt: row.firstEmailAt,
      remindersSent: row.sent,
      lastEmailAt: row.lastEmailAt,
    });
  }
}
