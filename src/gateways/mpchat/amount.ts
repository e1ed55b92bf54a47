import { type Money, MoneyError } from '../../domain/money.js';

/**
 * Exact decimal arithmetic on MPChat's USDT amounts, which travel as decimal strings in major
 * units ("99.99", spec §9). A value is an integer count of 10^-scale units held in a bigint, so
 * comparing "99.990000" with "99.99" or applying a tolerance never goes through a float.
 */

export interface Decimal {
  /** The value times 10^scale. */
  readonly units: bigint;
  readonly scale: number;
}

// Plain decimal text as the API writes amounts, plus the exponent form String(number) gives for
// small tolerances (String(1e-7) === "1e-7").
const DECIMAL_TEXT = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** Parses a non-negative decimal; undefined when the text is not one (signs are refused). */
export function parseDecimal(text: string): Decimal | undefined {
  const match = DECIMAL_TEXT.exec(text.trim());
  if (!match) return undefined;
  const [, whole = '', fraction = '', exponentText] = match;
  const exponent = Number(exponentText ?? 0);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 30) return undefined;
  let units = BigInt(whole + fraction);
  let scale = fraction.length - exponent;
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { units, scale };
}

function align(a: Decimal, b: Decimal): [bigint, bigint] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * 10n ** BigInt(scale - a.scale), b.units * 10n ** BigInt(scale - b.scale)];
}

export function compareDecimal(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function multiplyDecimal(a: Decimal, b: Decimal): Decimal {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

/** a − b; the caller makes sure a ≥ b (amounts here are never negative). */
export function subtractDecimal(a: Decimal, b: Decimal): Decimal {
  const [x, y] = align(a, b);
  return { units: x - y, scale: Math.max(a.scale, b.scale) };
}

export const ONE: Decimal = { units: 1n, scale: 0 };

/** Minor units of a Money as a Decimal in major units: 9999 with 2 decimals → 99.99. */
export function decimalFromMoney(amount: Money): Decimal {
  return { units: BigInt(amount.minor), scale: amount.decimals };
}

/**
 * Minor units at `decimals` digits, truncated toward zero, with whether digits were cut.
 * Truncation, not rounding: we never book more than the chain received.
 */
export function truncateToMinor(value: Decimal, decimals: number): { minor: number; exact: boolean } {
  let minor: bigint;
  let exact = true;
  if (value.scale <= decimals) {
    minor = value.units * 10n ** BigInt(decimals - value.scale);
  } else {
    const divisor = 10n ** BigInt(value.scale - decimals);
    minor = value.units / divisor;
    exact = value.units % divisor === 0n;
  }
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) throw new MoneyError('amount too large');
  return { minor: Number(minor), exact };
}

/** Plain text without trailing zeros beyond the point: {9990, 2} → "99.9". */
export function formatDecimal(value: Decimal): string {
  const digits = value.units.toString().padStart(value.scale + 1, '0');
  const whole = digits.slice(0, digits.length - value.scale);
  const fraction = digits.slice(digits.length - value.scale).replace(/0+$/, '');
  return fraction === '' ? whole : `${whole}.${fraction}`;
}

/** The value rounded up (toward +∞) to at most `scale` digits: 101.2501 → 101.26 at 2. */
export function roundUpToScale(value: Decimal, scale: number): Decimal {
  if (value.scale <= scale) return value;
  const divisor = 10n ** BigInt(value.scale - scale);
  const units = value.units / divisor + (value.units % divisor === 0n ? 0n : 1n);
  return { units, scale };
}

/**
 * value ÷ divisor in minor units at `decimals` digits, truncated toward zero (never more than
 * the value is worth). The divisor must be > 0.
 */
export function divideToMinor(value: Decimal, divisor: Decimal, decimals: number): number {
  if (divisor.units <= 0n) throw new MoneyError('division by a non-positive decimal');
  // (vu / 10^vs) / (du / 10^ds) × 10^d = vu × 10^(ds + d) / (du × 10^vs)
  const numerator = value.units * 10n ** BigInt(divisor.scale + decimals);
  const denominator = divisor.units * 10n ** BigInt(value.scale);
  const minor = numerator / denominator;
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) throw new MoneyError('amount too large');
  return Number(minor);
}

/** Text with exactly `scale` digits after the point: {10125, 2} → "101.25", {5, 0} at 2 → "5.00". */
export function formatFixed(value: Decimal, scale: number): string {
  const units =
    value.scale <= scale
      ? value.units * 10n ** BigInt(scale - value.scale)
      : value.units / 10n ** BigInt(value.scale - scale);
  const digits = units.toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  return scale === 0 ? whole : `${whole}.${digits.slice(digits.length - scale)}`;
}
