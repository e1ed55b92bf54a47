import { describe, expect, it } from 'vitest';
import {
  formatMinorAsDecimal,
  MoneyError,
  minorFromOdooFloat,
  odooFloatFromMinor,
  parseDecimalToMinor,
} from './money.js';

describe('parseDecimalToMinor', () => {
  it.each([
    ['5000.00', 2, 500000],
    ['5000', 2, 500000],
    ['0.1', 2, 10],
    ['120.35', 2, 12035],
    ['1500', 0, 1500],
    ['1500.4', 0, 1500],
    ['1500.5', 0, 1501],
    ['12.345', 3, 12345],
    ['12.3455', 3, 12346],
    ['0.005', 2, 1],
    ['-12.5', 2, -1250],
    ['1e3', 2, 100000],
    ['1.5e-2', 3, 15],
    ['00042.10', 2, 4210],
  ])('%s with %i decimals is %i', (text, decimals, minor) => {
    expect(parseDecimalToMinor(text, decimals)).toBe(minor);
  });

  it('rejects text that is not a decimal', () => {
    expect(() => parseDecimalToMinor('12,50', 2)).toThrow(MoneyError);
    expect(() => parseDecimalToMinor('', 2)).toThrow(MoneyError);
    expect(() => parseDecimalToMinor('NaN', 2)).toThrow(MoneyError);
  });

  it('rejects amounts beyond safe integers', () => {
    expect(() => parseDecimalToMinor('99999999999999999', 2)).toThrow(/too large/);
  });
});

describe('minorFromOdooFloat', () => {
  it('takes the decimal Odoo stored, not the binary float', () => {
    // 0.1 + 0.2 style values arrive as the shortest round-trip text of the double.
    expect(minorFromOdooFloat(1.15, 2)).toBe(115);
    expect(minorFromOdooFloat(4.35, 2)).toBe(435);
    expect(minorFromOdooFloat(31750.0, 2)).toBe(3175000);
    expect(minorFromOdooFloat(1234.567, 3)).toBe(1234567);
    expect(minorFromOdooFloat(15000, 0)).toBe(15000);
  });

  it('refuses infinities', () => {
    expect(() => minorFromOdooFloat(Number.POSITIVE_INFINITY, 2)).toThrow(MoneyError);
  });
});

describe('formatMinorAsDecimal', () => {
  it.each([
    [500000, 2, '5000.00'],
    [5, 2, '0.05'],
    [0, 2, '0.00'],
    [1500, 0, '1500'],
    [12345, 3, '12.345'],
    [7, 3, '0.007'],
    [-1250, 2, '-12.50'],
  ])('%i with %i decimals is %s', (minor, decimals, text) => {
    expect(formatMinorAsDecimal(minor, decimals)).toBe(text);
  });

  it('round-trips through Odoo floats', () => {
    for (const minor of [1, 99, 115, 435, 100001, 987654321]) {
      expect(minorFromOdooFloat(odooFloatFromMinor(minor, 2), 2)).toBe(minor);
      expect(minorFromOdooFloat(odooFloatFromMinor(minor, 3), 3)).toBe(minor);
    }
  });

  it('refuses fractional minor units', () => {
    expect(() => formatMinorAsDecimal(1.5, 2)).toThrow(MoneyError);
  });
});
