/**
 * Money as integer minor units. Odoo hands us floats and MyTPE decimal strings; both are
 * converted here, once, through their decimal text, so no amount is ever computed in floating point.
 */

export interface Money {
  /** Integer amount in the currency's smallest unit (cents, centimes, fils…). */
  readonly minor: number;
  /** ISO 4217 code as Odoo names the currency (res.currency.name). */
  readonly currency: string;
  /** Digits after the decimal point for this currency (res.currency.decimal_places). */
  readonly decimals: number;
}

export class MoneyError extends Error {
  override name = 'MoneyError';
}

function assertDecimals(decimals: number): void {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 6) {
    throw new MoneyError(`currency decimals must be an integer from 0 to 6, got ${decimals}`);
  }
}

function assertMinor(minor: number): void {
  if (!Number.isSafeInteger(minor))
    throw new MoneyError(`amount in minor units must be a safe integer, got ${minor}`);
}

const DECIMAL_TEXT = /^([+-])?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Parses a decimal written as text ("5000.00", "120.5", "1e-7") into minor units, rounding half away
 * from zero past the currency's digits, as Odoo's float_round does.
 */
export function parseDecimalToMinor(text: string, decimals: number): number {
  assertDecimals(decimals);
  const match = DECIMAL_TEXT.exec(text.trim());
  if (!match) throw new MoneyError(`not a decimal amount: ${JSON.stringify(text)}`);
  const [, sign, intPart = '', fracPart = '', exponentText] = match;
  let digits = intPart + fracPart;
  // Position of the decimal point counted from the left end of `digits`.
  let point = intPart.length + Number(exponentText ?? 0);
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (digits.length < point) digits += '0'.repeat(point - digits.length);
  const whole = digits.slice(0, point) || '0';
  const fraction = digits.slice(point).padEnd(decimals + 1, '0');
  const kept = fraction.slice(0, decimals);
  const roundUp = (fraction[decimals] ?? '0') >= '5';
  let minor = BigInt(whole + kept);
  if (roundUp) minor += 1n;
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) throw new MoneyError(`amount too large: ${text}`);
  const value = Number(minor);
  return sign === '-' && value !== 0 ? -value : value;
}

/**
 * Converts an amount Odoo sent as a JSON number. The shortest round-trip text of the double
 * (what JSON.stringify prints) is the decimal Odoo stored, so we parse that text.
 */
export function minorFromOdooFloat(value: number, decimals: number): number {
  if (!Number.isFinite(value)) throw new MoneyError(`amount is not a finite number: ${value}`);
  return parseDecimalToMinor(String(value), decimals);
}

/** Renders minor units as a plain decimal string in major units: 500000, 2 → "5000.00". */
export function formatMinorAsDecimal(minor: number, decimals: number): string {
  assertMinor(minor);
  assertDecimals(decimals);
  const negative = minor < 0;
  const digits = Math.abs(minor)
    .toString()
    .padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals);
  return `${negative ? '-' : ''}${whole}${decimals > 0 ? `.${fraction}` : ''}`;
}

/** Same value as a JSON number for Odoo's float fields (the decimal text converts exactly). */
export function odooFloatFromMinor(minor: number, decimals: number): number {
  return Number(formatMinorAsDecimal(minor, decimals));
}

export function money(minor: number, currency: string, decimals: number): Money {
  assertMinor(minor);
  assertDecimals(decimals);
  return { minor, currency, decimals };
}

export function sameMoney(a: Money, b: Money): boolean {
  return a.minor === b.minor && a.currency === b.currency && a.decimals === b.decimals;
}

export function describeMoney(amount: Money): string {
  return `${formatMinorAsDecimal(amount.minor, amount.decimals)} ${amount.currency}`;
}
