/**
 * Exchange rates as exact decimal text. Odoo keeps rates as floats; we take the shortest text of
 * each (what Odoo shows) and divide in integers, so no float arithmetic touches an amount.
 */

const DECIMAL = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i;

/** Plain decimal text ('0.00000015') of a number's shortest form ('1.5e-7'); undefined if not positive and finite. */
export function decimalTextOf(value: number): string | undefined {
  if (!Number.isFinite(value) || value <= 0) return undefined;
  const match = DECIMAL.exec(String(value));
  if (!match) return undefined;
  const [, whole = '', fraction = '', exponent = '0'] = match;
  const digits = `${whole}${fraction}`;
  const point = whole.length + Number(exponent);
  const text =
    point <= 0
      ? `0.${'0'.repeat(-point)}${digits}`
      : point >= digits.length
        ? `${digits}${'0'.repeat(point - digits.length)}`
        : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return trimDecimal(text);
}

function trimDecimal(text: string): string {
  const [whole = '0', fraction = ''] = text.split('.');
  const cleanWhole = whole.replace(/^0+(?=\d)/, '');
  const cleanFraction = fraction.replace(/0+$/, '');
  return cleanFraction ? `${cleanWhole}.${cleanFraction}` : cleanWhole;
}

function scaled(text: string): { units: bigint; scale: number } {
  const [whole = '0', fraction = ''] = text.split('.');
  return { units: BigInt(`${whole}${fraction}`), scale: fraction.length };
}

/** numerator ÷ denominator, both decimal text, rounded half up to `scale` decimals. */
export function divideDecimalText(numerator: string, denominator: string, scale = 12): string {
  const a = scaled(numerator);
  const b = scaled(denominator);
  if (b.units === 0n) throw new RangeError('division by zero');
  // a/b = (a.units / 10^a.scale) / (b.units / 10^b.scale); scaled by 10^scale, times 2 to round.
  const top = a.units * 10n ** BigInt(b.scale + scale) * 2n;
  const bottom = b.units * 10n ** BigInt(a.scale);
  const doubled = top / bottom;
  const rounded = (doubled + 1n) / 2n;
  const text = rounded.toString().padStart(scale + 1, '0');
  return trimDecimal(`${text.slice(0, text.length - scale)}.${text.slice(text.length - scale)}`);
}
