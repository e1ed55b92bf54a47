import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TemplateError } from '../mail/render.js';
import { type PayPage, PayPageRenderer, samplePayPage } from './render.js';

const renderer = new PayPageRenderer();

/** The visible words of a page, tags dropped and spaces (Intl's no-break ones too) made plain. */
function words(html: string): string {
  const body = html.slice(html.indexOf('<body'));
  return body
    .replace(/<[^>]*>/g, ' ')
    .replace(/&middot;/g, '·')
    .replace(/[\s\u00a0\u202f]+/g, ' ')
    .trim();
}

const heading = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];

describe.each([
  {
    lang: 'en',
    odoo: 'en_US',
    dir: 'ltr',
    paid: ['Invoice INV/2025/00042 is paid', 'Paid on March 18, 2025. Thank you!'],
    paidNoDate: 'This invoice is paid. Thank you!',
    cancelled: 'This invoice was cancelled.',
    notPayable: 'This invoice cannot be paid online at the moment.',
    contact: 'If you have a question, contact Atlas Distribution SARL at facturation@atlas-distribution.dz.',
    contactNoEmail: 'If you have a question, contact Atlas Distribution SARL.',
    unavailable: ['Online payment is briefly unavailable.', 'Please try again in a few minutes.'],
    amount: 'Amount DZD 123,450.00',
  },
  {
    lang: 'fr',
    odoo: 'fr_BE',
    dir: 'ltr',
    paid: ['La facture INV/2025/00042 est réglée', 'Réglée le 18 mars 2025. Merci !'],
    paidNoDate: 'Cette facture est réglée. Merci !',
    cancelled: 'Cette facture a été annulée.',
    notPayable: 'Cette facture ne peut pas être réglée en ligne pour le moment.',
    contact:
      'Pour toute question, contactez Atlas Distribution SARL à l’adresse facturation@atlas-distribution.dz.',
    contactNoEmail: 'Pour toute question, contactez Atlas Distribution SARL.',
    unavailable: [
      'Le paiement en ligne est momentanément indisponible.',
      'Veuillez réessayer dans quelques minutes.',
    ],
    amount: 'Montant 123 450,00 DZD',
  },
  {
    lang: 'ar',
    odoo: 'ar_001',
    dir: 'rtl',
    paid: ['الفاتورة INV/2025/00042 مدفوعة', 'تم الدفع في 18 مارس 2025. شكرًا لكم!'],
    paidNoDate: 'تم دفع هذه الفاتورة. شكرًا لكم!',
    cancelled: 'تم إلغاء هذه الفاتورة.',
    notPayable: 'لا يمكن دفع هذه الفاتورة عبر الإنترنت في الوقت الحالي.',
    contact:
      'لأي استفسار، يُرجى التواصل مع Atlas Distribution SARL عبر البريد الإلكتروني facturation@atlas-distribution.dz.',
    contactNoEmail: 'لأي استفسار، يُرجى التواصل مع Atlas Distribution SARL.',
    unavailable: ['الدفع عبر الإنترنت غير متاح مؤقتًا.', 'يُرجى المحاولة مجددًا بعد بضع دقائق.'],
    amount: 'المبلغ \u200f123.450,00 د.ج.\u200f',
  },
])('$lang pay pages', (t) => {
  const render = (page: PayPage) => renderer.render({ ...page, lang: t.odoo });

  it('are full documents in the language, with its direction', () => {
    for (const kind of ['paid', 'cancelled', 'not_payable', 'unavailable'] as const) {
      const { html, language } = render(samplePayPage(kind));
      expect(language).toBe(t.lang);
      expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="([a-z]+)" dir="(ltr|rtl)">/);
      expect(html).toContain(`<html lang="${t.lang}" dir="${t.dir}">`);
      expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
      expect(html).toMatch(/<title>[^<]*INV\/2025\/00042[^<]*Atlas Distribution SARL<\/title>/);
    }
  });

  it('paid: 200, the heading names the invoice, the payment date is in the language', () => {
    const { status, html } = render(samplePayPage('paid'));
    expect(status).toBe(200);
    expect(heading(html)).toBe(t.paid[0]);
    expect(words(html)).toContain(t.paid[1]);
    expect(words(html)).toContain(t.amount);
  });

  it('paid without a payment date: 200 and no date', () => {
    const { status, html } = render({ ...samplePayPage('paid'), kind: 'paid', paidOn: null });
    expect(status).toBe(200);
    expect(words(html)).toContain(t.paidNoDate);
    expect(words(html)).not.toContain('2025-03-18');
    expect(words(html)).not.toContain(t.paid[1]);
  });

  it('cancelled: 200 and whom to contact, by email when the company has one', () => {
    const page = samplePayPage('cancelled');
    const { status, html } = render(page);
    expect(status).toBe(200);
    expect(heading(html)).toBe(t.cancelled);
    expect(words(html)).toContain(t.contact);
    const noEmail = render({ ...page, company: { ...page.company, email: null } });
    expect(words(noEmail.html)).toContain(t.contactNoEmail);
    expect(noEmail.html).not.toContain('facturation@');
  });

  it('not payable: 200 and whom to contact', () => {
    const { status, html } = render(samplePayPage('not_payable'));
    expect(status).toBe(200);
    expect(heading(html)).toBe(t.notPayable);
    expect(words(html)).toContain(t.contact);
  });

  it('unavailable: 503 and to try again soon', () => {
    const { status, html } = render(samplePayPage('unavailable'));
    expect(status).toBe(503);
    expect(heading(html)).toBe(t.unavailable[0]);
    expect(words(html)).toContain(t.unavailable[1]);
  });
});

describe('pay pages', () => {
  it('fall back to English for an unknown or missing language', () => {
    expect(renderer.render({ ...samplePayPage('cancelled'), lang: 'de_DE' }).language).toBe('en');
    expect(renderer.render(samplePayPage('cancelled')).language).toBe('en');
  });

  it('show the amount only when given', () => {
    const { amount: _, ...page } = samplePayPage('not_payable');
    const { html } = renderer.render(page);
    expect(words(html)).not.toContain('Amount');
    expect(words(html)).toContain('Invoice INV/2025/00042');
  });

  it('escape hostile Odoo values and never evaluate them as templates', () => {
    const page: PayPage = {
      kind: 'cancelled',
      invoiceName: 'INV/"><img src=x onerror=alert(1)>/{{constructor}}',
      company: {
        name: '<script>alert(1)</script> {email}',
        email: 'x@evil.dz"><script>alert(2)</script>',
        website: "javascript:alert('w')",
        logoUrl: 'javascript:alert(3)',
      },
      lang: 'ar_001',
    };
    const { html } = renderer.render(page);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toMatch(/\sonerror=/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; {email}');
    expect(html).toContain('{{constructor}}');
    expect(html).not.toContain('javascript:alert(3)');
    // A logo that is not a web URL gives way to the company name.
    expect(html).not.toMatch(/<img\s/);
  });

  it('load nothing but the logo, run no script, and keep the token out of Referer', () => {
    const { html } = renderer.render({
      ...samplePayPage('paid'),
      company: { name: 'Atlas', logoUrl: 'https://atlas.dz/logo.png' },
    });
    const sources = [...html.matchAll(/\s(?:src|href|background|action)="([^"]*)"/g)].map((m) => m[1]);
    expect(sources).toEqual(['https://atlas.dz/logo.png']);
    expect(html).toContain('<img src="https://atlas.dz/logo.png" alt="Atlas"');
    expect(html).not.toMatch(/<script|<link\s|@import|url\(|\son\w+=/i);
    expect(html).toContain('<meta name="referrer" content="no-referrer">');
    expect(html).toContain("default-src 'none'");
  });

  it('self check renders every kind in every language', () => {
    expect(() => renderer.selfCheck()).not.toThrow();
  });
});

describe('pay page overrides', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function write(relative: string, content: string) {
    const path = join(dir, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }

  it('take the admin folder’s strings, header and page like the email does', () => {
    dir = mkdtempSync(join(tmpdir(), 'paylink-paypage-'));
    write('fr/strings.json', JSON.stringify({ locale: 'fr-FR', dir: 'ltr', pagePaid: 'Déjà payée, merci.' }));
    write('partials/header.html.hbs', '<tr><td>Custom header for {{company.name}}</td></tr>');
    const renderer = new PayPageRenderer({ overrideDir: dir });
    const { html } = renderer.render({ ...samplePayPage('paid', 'fr_FR'), kind: 'paid', paidOn: null });
    expect(html).toContain('<p>Déjà payée, merci.</p>');
    expect(html).toContain('Custom header for Atlas Distribution SARL');
    // Keys the override does not define come from English.
    expect(heading(html)).toBe('Invoice INV/2025/00042 is paid');

    write('page.html.hbs', '{{#if}}');
    expect(() => new PayPageRenderer({ overrideDir: dir }).render(samplePayPage('paid'))).toThrow(
      TemplateError,
    );
  });
});
