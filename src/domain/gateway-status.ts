/**
 * What the pipeline needs to know about a link at a gateway, whatever the gateway calls it.
 * Each gateway maps its own statuses onto this closed set with an exhaustive switch; anything it
 * does not recognise becomes `unknown`, and `unknown` is never treated as paid.
 */
export const LINK_STATUSES = [
  'open', // payable, nothing paid yet (or only failed attempts)
  'pending', // a payment attempt is in progress
  'paid', // fully paid
  'partially_paid', // some money arrived, not the whole amount
  'expired', // closed by the gateway without payment
  'cancelled', // closed or paused by the merchant
  'unknown',
] as const;
export type LinkStatus = (typeof LINK_STATUSES)[number];

export const PAYMENT_STATUSES = ['pending', 'completed', 'failed', 'refunded', 'unknown'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export function assertUnreachable(value: never): never {
  throw new Error(`unreachable value: ${JSON.stringify(value)}`);
}
