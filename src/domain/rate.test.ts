import { describe, expect, it } from 'vitest';
import { decimalTextOf, divideDecimalText } from './rate.js';

describe('exchange rates as decimal text', () => {
  it('writes a float rate as Odoo shows it, exponents included', () => {
    expect(decimalTextOf(1.0832)).toBe('1.0832');
    expect(decimalTextOf(1.5e-7)).toBe('0.00000015');
    expect(decimalTextOf(2e21)).toBe('2000000000000000000000');
    expect(decimalTextOf(540)).toBe('540');
    expect(decimalTextOf(0)).toBeUndefined();
    expect(decimalTextOf(-1)).toBeUndefined();
  });

  it('divides exactly and rounds half up at the 12th decimal', () => {
    // 1 EUR in USD when 1 company unit = 0.92 EUR = 1 USD: 1 / 0.92.
    expect(divideDecimalText('1', '0.92')).toBe('1.086956521739');
    expect(divideDecimalText('1.0832', '1')).toBe('1.0832');
    expect(divideDecimalText('2', '3', 2)).toBe('0.67');
    expect(divideDecimalText('1', '8', 2)).toBe('0.13');
    expect(divideDecimalText('507.5', '0.001', 0)).toBe('507500');
    expect(() => divideDecimalText('1', '0')).toThrow(RangeError);
  });
});
