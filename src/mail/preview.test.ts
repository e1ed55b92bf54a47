import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renderPreview, sampleInvoiceEmail } from './preview.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('renderPreview', () => {
  it('writes a standalone HTML file with the QR code inlined as data:', async () => {
    dir = mkdtempSync(join(tmpdir(), 'paylink-preview-'));
    const path = await renderPreview({ sample: true, lang: 'ar', outFile: join(dir, 'nested', 'ar.html') });
    const html = readFileSync(path, 'utf8');
    expect(html).toContain('<html lang="ar" dir="rtl"');
    expect(html).toMatch(/<img src="data:image\/png;base64,[A-Za-z0-9+/]+(&#x3D;)*"/);
    expect(html).not.toContain('cid:');
  });

  it('renders a given model in the partner language unless told otherwise', async () => {
    dir = mkdtempSync(join(tmpdir(), 'paylink-preview-'));
    const model = { ...sampleInvoiceEmail('fr'), partner: { name: 'Zoé', email: null, lang: 'fr_BE' } };
    const fr = readFileSync(await renderPreview({ model, outFile: join(dir, 'a.html') }), 'utf8');
    expect(fr).toContain('Bonjour Zoé,');
    const en = readFileSync(await renderPreview({ model, lang: 'en', outFile: join(dir, 'b.html') }), 'utf8');
    expect(en).toContain('Hello Zoé,');
  });

  it('previews the reminder sample, sent after the due date', async () => {
    dir = mkdtempSync(join(tmpdir(), 'paylink-preview-'));
    const path = await renderPreview({
      sample: true,
      kind: 'reminder',
      lang: 'fr',
      outFile: join(dir, 'r.html'),
    });
    const html = readFileSync(path, 'utf8');
    expect(html).toContain('<title>Rappel : facture INV/2025/00042 de Atlas Distribution SARL</title>');
    expect(html).toContain('est échue depuis le 4 avril 2025.');
  });
});
