import type { Money } from './money.js';

/** An Odoo customer invoice as the pipeline needs it, amounts already in minor units. */
export interface Invoice {
  readonly id: number;
  readonly name: string;
  readonly moveType: string;
  /** draft | posted | cancel */
  readonly state: string;
  /** not_paid | in_payment | paid | partial | reversed | blocked | invoicing_legacy */
  readonly paymentState: string;
  readonly companyId: number;
  readonly companyName: string;
  /** The customer's company (or the customer): who an account.payment of this invoice is for. */
  readonly commercialPartnerId: number | null;
  readonly partner: {
    readonly id: number;
    readonly name: string;
    readonly email: string | null;
    readonly lang: string | null;
    /** The customer's tags (res.partner.category ids); one of them may exclude it from online payment. */
    readonly categoryIds: readonly number[];
  } | null;
  readonly total: Money;
  readonly residual: Money;
  readonly invoiceDate: string | null;
  readonly dueDate: string | null;
  /** Odoo's write_date, 'YYYY-MM-DD HH:MM:SS' UTC. */
  readonly writeDate: string;
  /** The gateway of the link the invoice carries (x_paylink_gateway; 'mytpe' for links older than it). */
  readonly linkGateway: string | null;
  readonly linkId: string | null;
  readonly linkUrl: string | null;
  /** The last link number used for this invoice, as recorded in Odoo (0: none yet). */
  readonly lastSequence: number;
  /** When the customer was emailed its pay link, as recorded in Odoo ('YYYY-MM-DD HH:MM:SS' UTC). */
  readonly emailedAt: string | null;
  /** Reminders the customer was sent, as recorded in Odoo. */
  readonly remindersSent: number;
  /** An accountant ticked "do not send" (x_paylink_skip) on the invoice. */
  readonly skip: boolean;
  /** What an accountant asked for from the Action menu (x_paylink_request), until the daemon clears it. */
  readonly request: string | null;
  /** The invoice's responsible user (invoice_user_id). */
  readonly responsibleUserId: number | null;
}

/**
 * Which invoices the merchant put out of the daemon's reach: those dated before `since`
 * (years of old invoices on a first start), ticked "do not send", or of a customer carrying one
 * of the excluding tags.
 */
export interface PublishScope {
  /** 'YYYY-MM-DD': invoices dated earlier get no link (those already linked keep theirs). */
  readonly since: string | null;
  readonly excludedCategoryIds: readonly number[];
}

/** Why the merchant excluded this invoice from online payment, if they did. */
export function exclusionOf(invoice: Invoice, scope: PublishScope): string | undefined {
  if (invoice.skip) return 'the invoice is marked "do not send" (x_paylink_skip)';
  const tags = invoice.partner?.categoryIds ?? [];
  if (tags.some((tag) => scope.excludedCategoryIds.includes(tag)))
    return 'the customer carries an excluding tag';
  return undefined;
}

/** Dated before the day publishing starts from: never given a link by itself. */
export function isBeforeScope(invoice: Invoice, scope: PublishScope): boolean {
  const date = invoice.invoiceDate;
  return scope.since !== null && date !== null && date < scope.since;
}

/** Settled in Odoo: paid or in payment (never judged by amount_residual, which stays on 18+ for payments without entries). */
export function isSettled(invoice: Invoice): boolean {
  return (
    invoice.paymentState === 'paid' ||
    invoice.paymentState === 'in_payment' ||
    invoice.paymentState === 'reversed'
  );
}

/** Can take an online payment now. */
export function isPayable(invoice: Invoice): boolean {
  return (
    invoice.moveType === 'out_invoice' &&
    invoice.state === 'posted' &&
    (invoice.paymentState === 'not_paid' || invoice.paymentState === 'partial') &&
    invoice.residual.minor > 0
  );
}
