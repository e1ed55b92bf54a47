import { formatMinorAsDecimal, type Money, parseDecimalToMinor } from '../../domain/money.js';
import { inputError } from './errors.js';

/** Building the fields of a TendoPay order: per-attempt ids, whole-peso amounts, a signable description. */

export const TENDOPAY_CURRENCY = 'PHP';
/** Odoo's res.currency PHP has 2 decimal places (centavos). */
export const PHP_DECIMALS = 2;
/** tp_description is String(50) (spec §3.1). */
export const DESCRIPTION_MAX = 50;

/**
 * How long an unused authorize_url is offered before we make a new order. TendoPay documents no
 * expiry (spec §7), so this is ours (gateway option orderTtlMs, config tendopay.orderTtlHours).
 */
export const DEFAULT_ORDER_TTL_MS = 24 * 60 * 60 * 1000;

const ATTEMPT_SEPARATOR = '-tp';

/**
 * `tp_merchant_order_id` for attempt n (1, 2, …) of one reference: `<reference>-tp<n>`. An order
 * token is single-use and TendoPay has no idempotency key, so every attempt (after a FAILED, a
 * timeout, or the TTL) gets a new id; the attempt counter is the caller's, persisted.
 */
export function merchantOrderIdFor(reference: string, attempt: number): string {
  if (!Number.isSafeInteger(attempt) || attempt < 1)
    throw inputError(`attempt must be 1 or more, got ${attempt}`);
  if (!/^[A-Za-z0-9._:/-]{1,80}$/.test(reference)) {
    // Plain ASCII only: the id is signed and echoed on redirects, where anything else gets encoded.
    throw inputError('the reference must be 1-80 ASCII letters, digits or ._:/-');
  }
  return `${reference}${ATTEMPT_SEPARATOR}${attempt}`;
}

/** The reverse of merchantOrderIdFor, for redirects and notifications; undefined when not ours. */
export function parseMerchantOrderId(
  merchantOrderId: string,
): { readonly reference: string; readonly attempt: number } | undefined {
  const match = /^(.+)-tp([1-9]\d{0,8})$/.exec(merchantOrderId);
  if (!match?.[1] || !match[2]) return undefined;
  return { reference: match[1], attempt: Number(match[2]) };
}

/**
 * What to do with an invoice that has centavos (spec §8 leaves open whether tp_amount takes them):
 * send them as a 2-decimal string, the spec's recommendation, or refuse the invoice.
 */
export type CentavosPolicy = 'decimal_string' | 'refuse';

/**
 * `tp_amount` text for an invoice amount: integer pesos when the amount is whole ("1500"), as the
 * docs type it Integer. With centavos, a 2-decimal string ("1234.50") under 'decimal_string',
 * otherwise refused rather than rounded or sent as a guess.
 */
export function pesosText(amount: Money, centavos: CentavosPolicy = 'refuse'): string {
  if (amount.currency !== TENDOPAY_CURRENCY)
    throw inputError(`TendoPay only charges in PHP, not ${amount.currency}`);
  if (!Number.isSafeInteger(amount.minor) || amount.minor <= 0)
    throw inputError('the amount must be a positive integer number of minor units');
  const decimal = formatMinorAsDecimal(amount.minor, amount.decimals);
  const [whole = '', fraction = ''] = decimal.split('.');
  if (!/[1-9]/.test(fraction)) return whole;
  if (centavos === 'refuse') throw inputError(`TendoPay takes whole pesos; ${decimal} PHP has centavos`);
  // Only centavos can be written: a third decimal (a currency set up with more) is not rounded away.
  if (/[1-9]/.test(fraction.slice(PHP_DECIMALS)))
    throw inputError(`${decimal} PHP has fractions of a centavo`);
  return `${whole}.${fraction.slice(0, PHP_DECIMALS).padEnd(PHP_DECIMALS, '0')}`;
}

/** An amount text TendoPay sent ("1500", "1500.5") as PHP Money in centavos, never via a float. */
export function moneyFromPesosText(text: string): Money {
  return {
    minor: parseDecimalToMinor(text, PHP_DECIMALS),
    currency: TENDOPAY_CURRENCY,
    decimals: PHP_DECIMALS,
  };
}

/**
 * A tp_description that survives signing on both sides: ASCII only (accents folded, the rest
 * dropped), single spaces, trimmed, at most 50 characters.
 */
export function tendoPayDescription(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/ {2,}/g, ' ')
    .trim()
    .slice(0, DESCRIPTION_MAX)
    .trim();
}
