import { describe, expect, it } from 'vitest';
import { InvalidPayloadError, parseInvoiceEmailJson, recipientAddresses } from './model.js';
import { sampleInvoiceEmail } from './preview.js';

describe('recipientAddresses', () => {
  it.each([
    ['karim@example.dz', ['karim@example.dz']],
    ['  karim@example.dz ', ['karim@example.dz']],
    ['a@example.dz, b@example.dz;a@example.dz', ['a@example.dz', 'b@example.dz']],
    ['Karim Benali <karim@example.dz>', ['karim@example.dz']],
    ['not an email', []],
    ['karim@', []],
    ['karim@example', []],
    ['', []],
    [null, []],
    [undefined, []],
  ])('%s', (field, expected) => {
    expect(recipientAddresses(field)).toEqual(expected);
  });
});

describe('parseInvoiceEmailJson', () => {
  it('round-trips the sample', () => {
    expect(parseInvoiceEmailJson(JSON.stringify(sampleInvoiceEmail('fr')))).toEqual(sampleInvoiceEmail('fr'));
  });

  it('reads emails queued before reminders existed as they were (no kind added)', () => {
    const parsed = parseInvoiceEmailJson(JSON.stringify(sampleInvoiceEmail()));
    expect(parsed).not.toHaveProperty('kind');
    expect(parsed).not.toHaveProperty('overdueSince');
  });

  it('round-trips a reminder, with or without an overdue date', () => {
    for (const extra of [
      { kind: 'reminder', overdueSince: '2025-04-04' },
      { kind: 'reminder', overdueSince: null },
      { kind: 'invoice' },
    ] as const) {
      const email = { ...sampleInvoiceEmail(), ...extra };
      expect(parseInvoiceEmailJson(JSON.stringify(email))).toEqual(email);
    }
  });

  it.each([
    ['not json', 'not JSON'],
    [
      JSON.stringify({ ...sampleInvoiceEmail(), payment: { url: 'data:text/html,x', gatewayName: 'g' } }),
      'payment.url',
    ],
    [
      JSON.stringify({ ...sampleInvoiceEmail(), company: { name: 'A', logoUrl: 'javascript:alert(1)' } }),
      'company.logoUrl',
    ],
    [
      JSON.stringify({
        ...sampleInvoiceEmail(),
        invoice: { ...sampleInvoiceEmail().invoice, amount: { minor: 1.5, currency: 'DZD', decimals: 2 } },
      }),
      'invoice.amount.minor',
    ],
    [JSON.stringify({ ...sampleInvoiceEmail(), kind: 'dunning' }), 'kind'],
    [
      JSON.stringify({ ...sampleInvoiceEmail(), kind: 'reminder', overdueSince: '04/04/2025' }),
      'overdueSince',
    ],
  ])('refuses %s', (json, field) => {
    expect(() => parseInvoiceEmailJson(json)).toThrow(InvalidPayloadError);
    expect(() => parseInvoiceEmailJson(json)).toThrow(field);
  });
});
