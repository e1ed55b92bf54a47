import { assertUnreachable, type PaymentStatus } from '../../domain/gateway-status.js';
import { type Money, MoneyError, parseDecimalToMinor } from '../../domain/money.js';

/**
 * TiloPay's response `code` (redirect §5, webhook §7, /consult §4) mapped to what an attempt means.
 * Only `1` = approved is certain; every other listed code comes from [3p] observations. A code not
 * listed is `unknown`, which is never paid and never final (see README: the plugin calls it failed).
 */

export type TiloPayOutcome = 'paid' | 'pending' | 'failed' | 'cancelled' | 'unknown';

export const TILOPAY_APPROVED_CODE = '1';
/** SINPE Móvil / cash-type methods: the buyer still has to transfer (spec §5). */
export const TILOPAY_PENDING_CODE = 'Pending';

/** Every code the spec names, with what it means for the attempt. */
export const TILOPAY_RESPONSE_CODES = {
  '1': 'paid',
  Pending: 'pending',
  '2': 'failed', // declined
  '3': 'failed', // insufficient funds
  '4': 'failed', // invalid card data
  '7': 'failed', // 3DS authentication failed
  '8': 'cancelled',
  '43': 'failed', // seen [3p], meaning not given; "anything other than 1 is not paid"
  '51': 'failed', // seen [3p], usually ISO 8583 "insufficient funds"
  '82': 'failed', // seen [3p]
  '98': 'failed', // issuer unreachable
} as const satisfies Record<string, TiloPayOutcome>;
export type TiloPayResponseCode = keyof typeof TILOPAY_RESPONSE_CODES;

function isKnownCode(code: string): code is TiloPayResponseCode {
  return Object.hasOwn(TILOPAY_RESPONSE_CODES, code);
}

/**
 * Outcome of one attempt from its `code`. `Pending` is matched without regard to case (the plugin
 * compares it that way, and a pending misread as unknown would only delay). Anything else is
 * matched exactly: " 1", "01" or "approved" are unknown, not paid.
 */
export function outcomeFromTiloPayCode(code: string | null | undefined): TiloPayOutcome {
  if (code == null) return 'unknown';
  if (code.toLowerCase() === 'pending') return 'pending';
  return isKnownCode(code) ? TILOPAY_RESPONSE_CODES[code] : 'unknown';
}

/**
 * The redirect's outcome (§5): `wp_cancel=yes` means the buyer left the hosted page, whatever the
 * code says, except that it never turns an approval into a cancel (the approval is what happened).
 */
export function outcomeFromRedirect(params: {
  readonly code: string | null | undefined;
  readonly wpCancel?: string | null | undefined;
}): TiloPayOutcome {
  const outcome = outcomeFromTiloPayCode(params.code);
  if (params.wpCancel === 'yes' && outcome !== 'paid') return 'cancelled';
  return outcome;
}

/** Onto the pipeline's payment status: failed and cancelled attempts are both `failed` payments. */
export function paymentStatusFromTiloPay(outcome: TiloPayOutcome): PaymentStatus {
  switch (outcome) {
    case 'paid':
      return 'completed';
    case 'pending':
      return 'pending';
    case 'failed':
    case 'cancelled':
      return 'failed';
    case 'unknown':
      return 'unknown';
    default:
      return assertUnreachable(outcome);
  }
}

/** An attempt as /consult lists it, reduced to what the status needs. */
export interface TiloPayAttemptLike {
  readonly code?: string | null | undefined;
  readonly amount?: string | null | undefined;
  readonly currency?: string | null | undefined;
}

export type TiloPayOrderDetail =
  | 'paid'
  /** No attempt yet: the hosted page was made, the buyer has not finished it (§9: pending). */
  | 'no_attempt'
  | 'pending_attempt'
  /** Approved, but for another amount or currency than the invoice: a human must look. */
  | 'approved_mismatch'
  | 'unknown_code'
  | 'last_attempt_failed'
  | 'last_attempt_cancelled';

export interface TiloPayOrderStatus<A extends TiloPayAttemptLike = TiloPayAttemptLike> {
  readonly status: TiloPayOutcome;
  readonly detail: TiloPayOrderDetail;
  /** The approved attempt whose amount and currency match, when status is paid. */
  readonly paidAttempt?: A | undefined;
}

function sameAmount(attempt: TiloPayAttemptLike, expected: Money): boolean {
  if (attempt.currency == null || attempt.amount == null) return false;
  if (attempt.currency.trim().toUpperCase() !== expected.currency.toUpperCase()) return false;
  try {
    return parseDecimalToMinor(attempt.amount, expected.decimals) === expected.minor;
  } catch (error) {
    if (error instanceof MoneyError) return false;
    throw error;
  }
}

/**
 * The state of one orderNumber from all its /consult attempts (§9). Paid needs an approved attempt
 * with the invoice's exact amount and currency. An approval for another amount is `unknown`, never
 * paid. Then a pending attempt, then an unknown code, keep the order open; otherwise the last
 * attempt (the list's order) says failed or cancelled.
 */
export function orderStatusFromAttempts<A extends TiloPayAttemptLike>(
  attempts: readonly A[],
  expected: Money,
): TiloPayOrderStatus<A> {
  const outcomes = attempts.map((attempt) => outcomeFromTiloPayCode(attempt.code));
  const approved = attempts.filter((_, index) => outcomes[index] === 'paid');
  const paidAttempt = approved.find((attempt) => sameAmount(attempt, expected));
  if (paidAttempt) return { status: 'paid', detail: 'paid', paidAttempt };
  if (approved.length > 0) return { status: 'unknown', detail: 'approved_mismatch' };
  if (attempts.length === 0) return { status: 'pending', detail: 'no_attempt' };
  if (outcomes.includes('pending')) return { status: 'pending', detail: 'pending_attempt' };
  if (outcomes.includes('unknown')) return { status: 'unknown', detail: 'unknown_code' };
  const last = outcomes[outcomes.length - 1];
  return last === 'cancelled'
    ? { status: 'cancelled', detail: 'last_attempt_cancelled' }
    : { status: 'failed', detail: 'last_attempt_failed' };
}
