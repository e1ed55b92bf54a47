import { describe, expect, it } from 'vitest';
import { formatAmount, formatDate } from './format.js';

// Intl separates French thousands with a narrow no-break space; compare on plain spaces.
const plain = (s: string) => s.replace(/[\u202f\u00a0]/g, ' ').replace(/[\u200e\u200f\u061c]/g, '');

describe('formatAmount', () => {
  it.each([
    [{ minor: 150_000, currency: 'DZD', decimals: 2 }, 'fr-FR', '1 500,00 DZD'],
    [{ minor: 150_000, currency: 'DZD', decimals: 2 }, 'en-US', 'DZD 1,500.00'],
    [{ minor: 150_000, currency: 'DZD', decimals: 2 }, 'ar-DZ-u-nu-latn', '1.500,00 د.ج.'],
    [{ minor: 1_234_567, currency: 'KWD', decimals: 3 }, 'en-US', 'KWD 1,234.567'],
    [{ minor: 5000, currency: 'JPY', decimals: 0 }, 'en-US', '¥5,000'],
    [{ minor: 12_50, currency: 'EUR', decimals: 2 }, 'fr-FR', '12,50 €'],
  ])('%o in %s', (amount, locale, expected) => {
    expect(plain(formatAmount(amount, locale))).toBe(expected);
  });

  it('keeps every digit of amounts a float cannot hold', () => {
    const amount = { minor: 9_007_199_254_740_991, currency: 'DZD', decimals: 2 };
    expect(plain(formatAmount(amount, 'en-US'))).toBe('DZD 90,071,992,547,409.91');
  });

  it('falls back to plain text for a currency Intl does not accept', () => {
    expect(formatAmount({ minor: 150, currency: 'X1', decimals: 2 }, 'en-US')).toBe('1.50 X1');
  });
});

describe('formatDate', () => {
  it('formats Odoo calendar dates without a timezone shift', () => {
    expect(formatDate('2025-01-01', 'en-US')).toBe('January 1, 2025');
    expect(formatDate('2025-03-05', 'fr-FR')).toBe('5 mars 2025');
    expect(formatDate('2025-03-05', 'ar-DZ-u-nu-latn')).toBe('5 مارس 2025');
  });

  it('passes through what it cannot read', () => {
    expect(formatDate(null, 'en-US')).toBeNull();
    expect(formatDate('', 'en-US')).toBeNull();
    expect(formatDate('soon', 'en-US')).toBe('soon');
  });
});
