import { describeMoney, type Money } from '../domain/money.js';

/** The chatter notes an accountant reads on the invoice. Every value is escaped. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export interface Note {
  readonly kind: string;
  readonly body: string;
}

const paragraph = (text: string) => `<p>${text}</p>`;

export const notes = {
  linkCreated(gateway: string, url: string, amount: Money, charge?: string | null): Note {
    const link = `<a href="${escapeHtml(url)}" target="_blank">${escapeHtml(url)}</a>`;
    return {
      kind: 'link_created',
      body: paragraph(
        `${escapeHtml(gateway)} payment link created for ${escapeHtml(describeMoney(amount))}: ${link}${charge ? ` ${escapeHtml(charge)}` : ''}`,
      ),
    };
  },
  registered(gateway: string, amount: Money, transactionId: string): Note {
    return {
      kind: 'registered',
      body: paragraph(
        `Online payment of ${escapeHtml(describeMoney(amount))} received through ${escapeHtml(gateway)} and registered (transaction ${escapeHtml(transactionId)}).`,
      ),
    };
  },
  mismatch(gateway: string, reason: string, transactionId: string | null): Note {
    return {
      kind: 'mismatch',
      body: paragraph(
        `<b>Action needed:</b> an online payment through ${escapeHtml(gateway)} was NOT registered because it does not match this invoice: ${escapeHtml(reason)}${transactionId ? ` (transaction ${escapeHtml(transactionId)})` : ''}. Check it with the customer and register or refund it by hand.`,
      ),
    };
  },
  refundNeeded(gateway: string, reason: string, transactionId: string | null, amount: Money | null): Note {
    return {
      kind: 'refund_needed',
      body: paragraph(
        `<b>Action needed:</b> ${amount ? `${escapeHtml(describeMoney(amount))} was` : 'a payment was'} paid online through ${escapeHtml(gateway)}${transactionId ? ` (transaction ${escapeHtml(transactionId)})` : ''}, but it was not registered: ${escapeHtml(reason)}. The customer probably needs a refund.`,
      ),
    };
  },
  creationRefused(gateway: string, reason: string): Note {
    return {
      kind: 'creation_refused',
      body: paragraph(
        `<b>Action needed:</b> ${escapeHtml(gateway)} refused to create a payment link for this invoice: ${escapeHtml(reason)}`,
      ),
    };
  },
  closed(gateway: string, reason: string): Note {
    return {
      kind: 'closed',
      body: paragraph(
        `The ${escapeHtml(gateway)} payment link of this invoice was archived so it cannot be paid: ${escapeHtml(reason)}.`,
      ),
    };
  },
  latePayment(gateway: string, amount: Money, transactionId: string): Note {
    return {
      kind: 'late_payment',
      body: paragraph(
        `The customer paid ${escapeHtml(describeMoney(amount))} through an earlier ${escapeHtml(gateway)} payment link of this invoice (transaction ${escapeHtml(transactionId)}), after it had been replaced. The payment is registered and the newer link is archived.`,
      ),
    };
  },
  deletedAtGateway(gateway: string): Note {
    return {
      kind: 'deleted',
      body: paragraph(
        `The ${escapeHtml(gateway)} payment link of this invoice was deleted at the gateway, so it can no longer be paid.`,
      ),
    };
  },
  foreignLink(linkId: string, reason: string): Note {
    return {
      kind: 'foreign_link',
      body: paragraph(
        `<b>Action needed:</b> this invoice carries a payment link (${escapeHtml(linkId)}) that this odoo-paylink did not make (${escapeHtml(reason)}), so it leaves the invoice alone: no new link, no email, the link is never closed. If this database is a copy of another one, that is expected; otherwise clear the link fields or ask your administrator.`,
      ),
    };
  },
  unsupportedCurrency(gateway: string, currency: string, accepted: readonly string[]): Note {
    return {
      kind: 'unsupported_currency',
      body: paragraph(
        `No online payment link for this invoice: ${escapeHtml(gateway)} cannot charge ${escapeHtml(currency)} (it takes ${escapeHtml(accepted.join(', '))}).`,
      ),
    };
  },
  expired(gateway: string): Note {
    return {
      kind: 'expired',
      body: paragraph(
        `The ${escapeHtml(gateway)} payment link expired unpaid. A new link replaces it while the invoice is still open.`,
      ),
    };
  },
};

/** Text that identifies one note in the chatter, so a retry finds the note it already posted. */
export function noteMarker(reference: string, kind: string): string {
  return `[odoo-paylink ${reference} ${kind}]`;
}

/** The marker of a note about an invoice that has no link of ours. */
export function invoiceNoteMarker(prefix: string, invoiceId: number, kind: string): string {
  return `[odoo-paylink ${prefix}-inv-${invoiceId} ${kind}]`;
}
