import { formatMinorAsDecimal, type Money, parseDecimalToMinor } from '../../domain/money.js';

/**
 * TiloPay takes amounts as two-decimal major units ("15000.00", spec §3, §12.7), and the OrderHash
 * as PHP's number_format(amount, 2) ("15,000.00", §6). Both are made here from integer minor
 * units with string arithmetic only.
 */

export class TiloPayAmountError extends Error {
  override name = 'TiloPayAmountError';
}

/** Minor units of `amount` rescaled to hundredths; refuses a value that does not fit exactly. */
export function hundredthsOf(amount: Money): number {
  const hundredths = parseDecimalToMinor(formatMinorAsDecimal(amount.minor, amount.decimals), 2);
  // A 3-decimal currency (BHD…) with a non-zero last digit cannot be sent: TiloPay would charge
  // a rounded amount, which is not the invoice's.
  if (parseDecimalToMinor(formatMinorAsDecimal(hundredths, 2), amount.decimals) !== amount.minor) {
    throw new TiloPayAmountError(
      `${formatMinorAsDecimal(amount.minor, amount.decimals)} ${amount.currency} has more than two decimals`,
    );
  }
  return hundredths;
}

/** The `amount` field of processPayment: 150000 minor CRC (2 decimals) → "1500.00". */
export function tiloPayAmountText(amount: Money): string {
  return formatMinorAsDecimal(hundredthsOf(amount), 2);
}

/**
 * PHP number_format(x, 2) with its default separators on a decimal text: "15000" → "15,000.00",
 * "1234567.005" → "1,234,567.01" (half away from zero, like PHP's round()).
 */
export function phpNumberFormat2(decimalText: string): string {
  const plain = formatMinorAsDecimal(parseDecimalToMinor(decimalText, 2), 2);
  const negative = plain.startsWith('-');
  const [whole = '0', fraction = '00'] = (negative ? plain.slice(1) : plain).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}.${fraction}`;
}

/** The OrderHash's amount input for what we charged: 1500000 minor CRC → "15,000.00". */
export function orderHashAmount(amount: Money): string {
  return phpNumberFormat2(formatMinorAsDecimal(hundredthsOf(amount), 2));
}
