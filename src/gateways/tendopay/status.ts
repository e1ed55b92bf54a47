import { assertUnreachable } from '../../domain/gateway-status.js';

/**
 * TendoPay v2 `tp_transaction_status` values (spec §3.2, §5, §7). A transaction only exists once
 * the buyer has finished at TendoPay, so there is no "in progress" value: an order without a
 * transaction is pending (see `TENDOPAY_NO_TRANSACTION`).
 */
export const TENDOPAY_TRANSACTION_STATUSES = ['PAID', 'FAILED', 'CANCELED'] as const;
export type TendoPayTransactionStatus = (typeof TENDOPAY_TRANSACTION_STATUSES)[number];

/** What one TendoPay status means for the invoice it was made for. */
export const TENDOPAY_OUTCOMES = ['paid', 'pending', 'failed', 'cancelled', 'unknown'] as const;
export type TendoPayOutcome = (typeof TENDOPAY_OUTCOMES)[number];

/** Stands for "order created, no transaction yet" where a status is expected. */
export const TENDOPAY_NO_TRANSACTION = null;

export function isTendoPayTransactionStatus(value: unknown): value is TendoPayTransactionStatus {
  return typeof value === 'string' && (TENDOPAY_TRANSACTION_STATUSES as readonly string[]).includes(value);
}

/**
 * Maps a status exactly as sent. The docs and SDK only ever write the three upper-case values, so
 * `paid`, `CANCELLED` (British spelling) or anything new is `unknown`, which is never paid: the
 * caller re-reads the transaction later or a person looks at it.
 */
export function tendoPayOutcome(status: string | null | undefined): TendoPayOutcome {
  if (status === TENDOPAY_NO_TRANSACTION || status === undefined) return 'pending';
  if (!isTendoPayTransactionStatus(status)) return 'unknown';
  switch (status) {
    // Approved BNPL purchase: TendoPay pays the merchant. The amount is still checked by the caller.
    case 'PAID':
      return 'paid';
    // Declined (not enough credit…): this order token is spent; the invoice stays open for a new order.
    case 'FAILED':
      return 'failed';
    // Buyer cancelled, or the merchant voided a PAID purchase: see cancellationMeaning().
    case 'CANCELED':
      return 'cancelled';
    default:
      return assertUnreachable(status);
  }
}

/**
 * CANCELED means two things (spec §7): the buyer gave up (nothing was paid), or cancelPayment
 * voided a PAID purchase (a full refund). Only our own history of the transaction tells them apart.
 */
export function cancellationMeaning(wasPaidBefore: boolean): 'cancelled' | 'refunded' {
  return wasPaidBefore ? 'refunded' : 'cancelled';
}
