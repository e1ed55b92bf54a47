/** Picks the template language for a partner from Odoo's `lang` code (en_US, fr_BE, ar_001…). */

export const FALLBACK_LANGUAGE = 'en';

function normalise(code: string): string {
  return code.trim().toLowerCase().replace(/-/g, '_');
}

/**
 * The first available language among: Odoo's code as is (a `fr_BE` folder, if someone added
 * one), its base language (`fr`), then English. `available` holds template folder names; the
 * Odoo value is only compared against them, never used to build a path.
 */
export function resolveLanguage(odooLang: string | null | undefined, available: readonly string[]): string {
  const byKey = new Map(available.map((name) => [normalise(name), name]));
  if (odooLang) {
    const full = normalise(odooLang);
    const base = full.split(/[_@]/)[0] ?? '';
    for (const candidate of [full, base]) {
      const found = candidate ? byKey.get(candidate) : undefined;
      if (found) return found;
    }
  }
  return byKey.get(FALLBACK_LANGUAGE) ?? FALLBACK_LANGUAGE;
}
