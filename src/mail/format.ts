/** Locale-aware display of the amounts and dates that appear in the invoice email. */
import { formatMinorAsDecimal, type Money } from '../domain/money.js';

/**
 * "1 500,00 DZD" in fr-FR, "DZD 1,500.00" in en. The decimal string goes to Intl as is: Intl
 * formats numeric strings exactly, so no amount is ever turned into a float.
 */
export function formatAmount(amount: Money, locale: string): string {
  const decimal = formatMinorAsDecimal(amount.minor, amount.decimals) as `${number}`;
  try {
    return new Intl.NumberFormat(locale, {
      style: 'currency',
      currency: amount.currency,
      minimumFractionDigits: amount.decimals,
      maximumFractionDigits: amount.decimals,
    }).format(decimal);
  } catch {
    // An unknown currency code or locale must not block the email.
    return `${decimal} ${amount.currency}`;
  }
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})/;

/**
 * Odoo dates are calendar dates ("2024-03-05"), not instants: formatted in UTC so no timezone
 * can shift them by a day. Anything unparseable is shown as Odoo sent it.
 */
export function formatDate(value: string | null | undefined, locale: string): string | null {
  if (!value) return null;
  const match = ISO_DATE.exec(value);
  if (!match) return value;
  const [, y, m, d] = match;
  const time = Date.UTC(Number(y), Number(m) - 1, Number(d));
  if (Number.isNaN(time)) return value;
  try {
    return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(time);
  } catch {
    return value;
  }
}
