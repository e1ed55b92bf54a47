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
  } | null;
  readonly total: Money;
  readonly residual: Money;
  readonly invoiceDate: string | null;
  readonly dueDate: string | null;
  /** Odoo's write_date, 'YYYY-MM-DD HH:MM:SS' UTC. */
  readonly writeDate: string;
  readonly linkId: string | null;
  readonly linkUrl: string | null;
  /** The last link number used for this invoice, as recorded in Odoo (0: none yet). */
  readonly lastSequence: number;
  /** When the customer was emailed its pay link, as recorded in Odoo ('YYYY-MM-DD HH:MM:SS' UTC). */
  readonly emailedAt: string | null;
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
