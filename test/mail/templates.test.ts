/** Template resolution: languages, English fallback, and the admin override folder. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleInvoiceEmail } from '../../src/mail/preview.js';
import { EmailRenderer, TemplateError } from '../../src/mail/render.js';
import { tempDir } from './helpers.js';

let overrideDir: string;

function write(relative: string, content: string) {
  const path = join(overrideDir, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

afterEach(() => {
  if (overrideDir) rmSync(overrideDir, { recursive: true, force: true });
});

const render = (renderer: EmailRenderer, partnerLang: string) => {
  const email = sampleInvoiceEmail('en');
  return renderer.render({
    email: { ...email, partner: { ...email.partner, lang: partnerLang } },
    qrSrc: 'cid:qr',
    pdfAttached: false,
  });
};

describe('template languages', () => {
  it('ships en, fr and ar, and falls back to English', () => {
    const renderer = new EmailRenderer();
    expect(renderer.languages()).toEqual(['ar', 'en', 'fr']);
    expect(render(renderer, 'de_DE').language).toBe('en');
    expect(render(renderer, 'fr_BE').subject).toBe('Facture INV/2025/00042 de Atlas Distribution SARL');
  });

  it('renders every shipped language with the sample (self check)', () => {
    expect(() => new EmailRenderer().selfCheck(sampleInvoiceEmail)).not.toThrow();
  });
});

describe('override folder', () => {
  it('lets an override subject file win over the packaged one', () => {
    overrideDir = tempDir('override');
    write('subject.hbs', '[{{company.name}}] {{invoice.name}} — {{invoice.amount}}');
    const renderer = new EmailRenderer({ overrideDir });
    expect(render(renderer, 'en_US').subject).toBe(
      '[Atlas Distribution SARL] INV/2025/00042 — DZD 123,450.00',
    );
    expect(render(renderer, 'fr_FR').subject).toMatch(
      /^\[Atlas Distribution SARL\] INV\/2025\/00042 — 123.450,00.DZD$/,
    );
  });

  it('lets a per-language file win for that language only', () => {
    overrideDir = tempDir('override');
    write('fr/subject.hbs', 'Votre facture {{invoice.name}}');
    const renderer = new EmailRenderer({ overrideDir });
    expect(render(renderer, 'fr_FR').subject).toBe('Votre facture INV/2025/00042');
    expect(render(renderer, 'en_US').subject).toBe('Invoice INV/2025/00042 from Atlas Distribution SARL');
  });

  it('lets an override partial and strings win, and adds a language from files alone', () => {
    overrideDir = tempDir('override');
    write('partials/footer.html.hbs', '<tr><td>Custom footer for {{company.name}}</td></tr>');
    write('fr/strings.json', JSON.stringify({ locale: 'fr-FR', dir: 'ltr', payButton: 'Régler la facture' }));
    write(
      'es/strings.json',
      JSON.stringify({ locale: 'es-ES', dir: 'ltr', subject: 'Factura {invoice} de {company}' }),
    );
    const renderer = new EmailRenderer({ overrideDir });

    const fr = render(renderer, 'fr_FR');
    expect(fr.html).toContain('Custom footer for Atlas Distribution SARL');
    expect(fr.html).toContain('>Régler la facture</a>');
    // Keys the override does not define come from English.
    expect(fr.subject).toBe('Invoice INV/2025/00042 from Atlas Distribution SARL');

    expect(renderer.languages()).toContain('es');
    const es = render(renderer, 'es_AR');
    expect(es.language).toBe('es');
    expect(es.subject).toBe('Factura INV/2025/00042 de Atlas Distribution SARL');
    expect(es.html).toContain('<html lang="es" dir="ltr"');
  });

  it('reports a broken override template as a TemplateError', () => {
    overrideDir = tempDir('override');
    write('html.hbs', '{{#if}}');
    const renderer = new EmailRenderer({ overrideDir });
    expect(() => render(renderer, 'en_US')).toThrow(TemplateError);
  });
});
