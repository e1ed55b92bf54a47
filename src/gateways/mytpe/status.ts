import { assertUnreachable, type LinkStatus, type PaymentStatus } from '../../domain/gateway-status.js';

/** Link `status` (spec §4.8). */
export const MYTPE_LINK_STATES = ['active', 'inactive', 'closed'] as const;
export type MyTpeLinkState = (typeof MYTPE_LINK_STATES)[number];

/**
 * Link `payment_status`, computed by MyTPE. one_shot: awaiting_payment, paid, expired, inactive.
 * `active` is what the create answer may show; `active_receiving_payments` is the [3p] value for
 * reusable links. The limited/reusable tables were cut off in the docs, so others stay unknown.
 */
export const MYTPE_PAYMENT_STATUSES = [
  'awaiting_payment',
  'paid',
  'expired',
  'inactive',
  'active',
  'active_receiving_payments',
] as const;
export type MyTpePaymentStatus = (typeof MYTPE_PAYMENT_STATUSES)[number];

/** Transaction `status`; `refunded` only shows up in statistics, but map it anyway. */
export const MYTPE_TRANSACTION_STATUSES = [
  'pending',
  'processing',
  'completed',
  'failed',
  'refused',
  'refunded',
] as const;
export type MyTpeTransactionStatus = (typeof MYTPE_TRANSACTION_STATUSES)[number];

function isOneOf<T extends string>(values: readonly T[], value: string | null | undefined): value is T {
  return value != null && (values as readonly string[]).includes(value);
}

/** Status of one transaction. Anything unrecognised is `unknown`, which is never counted as paid. */
export function paymentStatusFromMyTpe(status: string): PaymentStatus {
  if (!isOneOf(MYTPE_TRANSACTION_STATUSES, status)) return 'unknown';
  switch (status) {
    case 'completed':
      return 'completed';
    case 'pending':
    case 'processing':
      return 'pending';
    // A failed/refused attempt leaves a one_shot link payable: the payer can retry.
    case 'failed':
    case 'refused':
      return 'failed';
    case 'refunded':
      return 'refunded';
    default:
      return assertUnreachable(status);
  }
}

function fromLinkStateAlone(state: MyTpeLinkState): LinkStatus {
  switch (state) {
    case 'active':
      return 'open';
    case 'inactive':
      return 'cancelled';
    // Closed means paid, quota reached or expired: without payment_status we cannot tell which.
    case 'closed':
      return 'unknown';
    default:
      return assertUnreachable(state);
  }
}

/**
 * Status of a link from its `status` and computed `payment_status`. `paid` needs both to agree
 * (payment_status=paid and status=closed); contradictions give `unknown`, never paid.
 */
export function linkStatusFromMyTpe(link: {
  readonly status: string;
  readonly payment_status?: string | null | undefined;
}): LinkStatus {
  const state = isOneOf(MYTPE_LINK_STATES, link.status) ? link.status : undefined;
  const paymentStatus = isOneOf(MYTPE_PAYMENT_STATUSES, link.payment_status)
    ? link.payment_status
    : undefined;
  if (paymentStatus === undefined) return state === undefined ? 'unknown' : fromLinkStateAlone(state);
  switch (paymentStatus) {
    case 'paid':
      return state === 'closed' ? 'paid' : 'unknown';
    case 'expired':
      return 'expired';
    case 'inactive':
      return 'cancelled';
    case 'awaiting_payment':
    case 'active':
    case 'active_receiving_payments':
      if (state === undefined) return 'unknown';
      // A closed link "awaiting payment" is contradictory; let the caller look again later.
      return fromLinkStateAlone(state);
    default:
      return assertUnreachable(paymentStatus);
  }
}
