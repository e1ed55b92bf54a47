import { describe, expect, it } from 'vitest';
import { money } from '../domain/money.js';
import { TemplateFolders } from '../mail/render.js';
import { escapeHtml, fillNote, invoiceNoteMarker, noteMarker, notes } from './notes.js';

const folders = new TemplateFolders();
const english = folders.stringsFor('en');

describe('chatter notes', () => {
  it('escape every value that comes from outside', () => {
    const body = notes.mismatch('MyTPE <Pay>', 'paid "1" & <b>more</b>', "t'1").render(english);
    expect(body).not.toContain('<b>more</b>');
    expect(body).toContain('&#60;b&#62;more&#60;/b&#62;');
    expect(body).toContain('MyTPE &#60;Pay&#62;');
    expect(escapeHtml(`<script>"x"&'y'</script>`)).toBe(
      '&#60;script&#62;&#34;x&#34;&#38;&#39;y&#39;&#60;/script&#62;',
    );
  });

  it('link the URL and state the amount', () => {
    const body = notes
      .linkCreated('MyTPE Pay', 'https://pay.example/x?a=1&b=2', money(150000, 'DZD', 2))
      .render(english);
    expect(body).toContain('href="https://pay.example/x?a=1&#38;b=2"');
    expect(body).toContain('1500.00 DZD');
  });

  it('speak French and Arabic from the templates’ strings, and carry no visible marker', () => {
    const note = notes.mismatch('MyTPE Pay', 'montant 10.00 DZD au lieu de 12.00 DZD', 'tx-9');
    const french = note.render(folders.stringsFor(folders.languageFor('fr_FR')));
    expect(french).toBe(
      '<p><b>Action requise :</b> un paiement en ligne via MyTPE Pay n’a PAS été enregistré car il ne correspond pas à cette facture : montant 10.00 DZD au lieu de 12.00 DZD (transaction tx-9). Vérifiez avec le client, puis enregistrez-le ou remboursez-le à la main.</p>',
    );
    const arabic = notes
      .registered('MyTPE Pay', money(1200, 'DZD', 2), 'tx-9')
      .render(folders.stringsFor(folders.languageFor('ar_001')));
    expect(arabic).toBe(
      '<p>تم استلام دفعة إلكترونية بمبلغ 12.00 DZD عبر MyTPE Pay وتسجيلها (المعاملة tx-9).</p>',
    );
    expect(`${french}${arabic}`).not.toMatch(/odoo-paylink|\[/);
  });

  it('fill each placeholder once, escaping text but not the markup we built', () => {
    const strings = { greeting: 'Hi {name}, see {link} and {missing}' };
    expect(fillNote(strings, 'greeting', { name: '{link} <b>', link: { html: '<a href="x">x</a>' } })).toBe(
      'Hi {link} &#60;b&#62;, see <a href="x">x</a> and {missing}',
    );
    expect(fillNote(strings, 'absent')).toBe('absent');
  });

  it('give each note a Message-Id made of its link (or invoice) and kind, so a retry finds it', () => {
    expect(noteMarker('db-inv-4-1', 'registered')).toBe('<paylink.db-inv-4-1.registered@odoo-paylink>');
    expect(invoiceNoteMarker('db', 4, 'foreign_link')).toBe('<paylink.db-inv-4.foreign_link@odoo-paylink>');
  });

  it('have every note string in every language the templates ship', () => {
    const keys = Object.keys(english).filter((key) => key.startsWith('note') || key.startsWith('request'));
    expect(keys.length).toBeGreaterThan(20);
    for (const language of ['fr', 'ar']) {
      const own = folders.stringsFor(language);
      const untranslated = keys.filter((key) => own[key] === english[key] && key !== 'noteTransaction');
      expect(untranslated, language).toEqual([]);
    }
  });
});
