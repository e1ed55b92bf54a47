/** Values from Odoo are data: escaped in HTML, never evaluated as templates. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleInvoiceEmail } from '../../src/mail/preview.js';
import { EmailRenderer, PACKAGE_TEMPLATES_DIR } from '../../src/mail/render.js';
import { hostileEmail } from './helpers.js';

const renderer = new EmailRenderer();

describe.each(['en', 'fr', 'ar'])('hostile values in %s', (lang) => {
  const rendered = renderer.render({ email: hostileEmail(lang), qrSrc: 'cid:qr', pdfAttached: true, lang });

  it('escapes them in the HTML', () => {
    const { html } = rendered;
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toMatch(/"\s*onmouseover=/);
    expect(html).not.toMatch(/\sonerror=/);
    expect(html).toContain('&lt;script&gt;{{x}}&lt;/script&gt;');
    expect(html).toContain('Evil&quot; onmouseover&#x3D;&quot;alert(1)&#x27;');
    expect(html).toContain('href="https://pay.example.dz/l/abc?a&#x3D;1&amp;b&#x3D;&quot;2&quot;"');
    // The website is shown as text, never as a link.
    expect(html).not.toContain('href="javascript:');
  });

  it('does not evaluate them as templates', () => {
    for (const part of [rendered.html, rendered.text, rendered.subject]) {
      expect(part).toContain('{{constructor}}');
    }
    expect(rendered.html).toContain('{{#each this}}{{/each}}');
    expect(rendered.text).toContain('{{constructor.constructor}}');
    // "{company}" typed by a user is not a placeholder of the translated sentence.
    expect(rendered.text).toContain('<script>{{x}}</script> {company}');
  });

  it('keeps the text part and subject literal', () => {
    expect(rendered.text).toContain('https://pay.example.dz/l/abc?a=1&b="2"');
    expect(rendered.subject).toContain('INV/"><img src=x onerror=alert(1)>/{{constructor}}');
    expect(rendered.subject).not.toContain('\n');
  });
});

describe('shipped templates', () => {
  function hbsFiles(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return hbsFiles(path);
      return name.endsWith('.hbs') ? [path] : [];
    });
  }

  it('never use raw output ({{{…}}} or {{&…}})', () => {
    const files = hbsFiles(PACKAGE_TEMPLATES_DIR);
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      expect(source, file).not.toMatch(/\{\{\{|\{\{~?\s*&/);
    }
  });

  it('load nothing remote except a logo the model names', () => {
    const { html } = renderer.render({ email: sampleInvoiceEmail('en'), qrSrc: 'cid:qr', pdfAttached: true });
    const sources = [...html.matchAll(/\s(?:src|background)="([^"]*)"/g)].map((m) => m[1]);
    expect(sources).toEqual(['cid:qr']);
    expect(html).not.toMatch(/<link\s|@import|url\(/);

    const withLogo = renderer.render({
      email: {
        ...sampleInvoiceEmail('en'),
        company: { name: 'Atlas', logoUrl: 'https://atlas.dz/logo.png' },
      },
      qrSrc: 'cid:qr',
      pdfAttached: true,
    });
    expect(withLogo.html).toContain('<img src="https://atlas.dz/logo.png" alt="Atlas"');
  });
});
