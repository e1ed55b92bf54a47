import { describe, expect, it } from 'vitest';
import { resolveLanguage } from './language.js';

describe('resolveLanguage', () => {
  const shipped = ['ar', 'en', 'fr'];

  it.each([
    ['en_US', 'en'],
    ['en_GB', 'en'],
    ['fr_FR', 'fr'],
    ['fr_BE', 'fr'],
    ['fr_CA', 'fr'],
    ['ar_001', 'ar'],
    ['ar_DZ', 'ar'],
    ['ar-SY', 'ar'],
    ['de_DE', 'en'],
    ['sr@latin', 'en'],
    ['', 'en'],
    [null, 'en'],
    [undefined, 'en'],
    ['../../etc/passwd', 'en'],
  ])('%s → %s', (odooLang, expected) => {
    expect(resolveLanguage(odooLang, shipped)).toBe(expected);
  });

  it('prefers a regional folder when someone added one', () => {
    expect(resolveLanguage('fr_BE', [...shipped, 'fr_BE'])).toBe('fr_BE');
    expect(resolveLanguage('fr_FR', [...shipped, 'fr_BE'])).toBe('fr');
  });
});
