import { describe, expect, it } from 'vitest';
import { renderInvoicePdf } from './pdf.js';

const invoice = {
  name: 'INV/2026/00042',
  company: 'Sandbox SARL',
  partner: 'Café (Oasis) \\ Nour — نور',
  amount: '1,500.00 DA',
  dueDate: '2026-12-31',
  state: 'posted / not_paid',
};

describe('renderInvoicePdf', () => {
  it('writes a PDF whose cross-reference table points at every object', () => {
    const pdf = renderInvoicePdf([invoice, { ...invoice, name: 'INV/2026/00043' }]);
    const text = pdf.toString('latin1');
    expect(text.startsWith('%PDF-1.4\n')).toBe(true);
    expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
    const startxref = Number(/startxref\n(\d+)\n/.exec(text)?.[1]);
    expect(text.slice(startxref, startxref + 4)).toBe('xref');
    const [, countText] = /xref\n0 (\d+)\n/.exec(text) ?? [];
    const count = Number(countText);
    expect(count).toBe(9);
    const entries = text
      .slice(startxref)
      .split('\n')
      .slice(3, 3 + count - 1);
    entries.forEach((entry, index) => {
      expect(entry).toMatch(/^\d{10} 00000 n $/);
      const offset = Number(entry.slice(0, 10));
      const header = `${index + 1} 0 obj\n`;
      expect(text.slice(offset, offset + header.length)).toBe(header);
    });
    expect(text).toContain('/Count 2');
  });

  it('names each invoice and escapes PDF string syntax', () => {
    const text = renderInvoicePdf([invoice]).toString('latin1');
    expect(text).toContain('(Invoice INV/2026/00042) Tj');
    expect(text).toContain('/Title (INV/2026/00042)');
    expect(text).toContain('Caf\xe9 \\(Oasis\\) \\\\ Nour ? ???');
    const stream = /stream\n([\s\S]*?)\nendstream/.exec(text)?.[1] ?? '';
    const declared = Number(/\/Length (\d+)/.exec(text)?.[1]);
    expect(Buffer.byteLength(stream, 'latin1')).toBe(declared);
  });
});
