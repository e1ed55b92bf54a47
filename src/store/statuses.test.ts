import { describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { InvoiceRequestRepository, InvoiceStatusRepository } from './statuses.js';

const T0 = 1_700_000_000_000;

describe('InvoiceStatusRepository', () => {
  it('never marks a status shown that changed while the sweep was writing the older one', () => {
    const statuses = new InvoiceStatusRepository(openDatabase(':memory:'));
    statuses.want({ invoiceId: 7, companyId: 1, status: 'open' }, T0);
    const [open] = statuses.due(T0, 10);
    expect(open).toMatchObject({ invoiceId: 7, status: 'open' });
    expect(statuses.claim(open!, T0, 60_000)).toBe(true);
    // The link is paid meanwhile.
    statuses.want({ invoiceId: 7, companyId: 1, status: 'paid' }, T0 + 1);
    expect(statuses.markShown(open!, null)).toBe(false);
    const [paid] = statuses.due(T0 + 2, 10);
    expect(paid).toMatchObject({ status: 'paid' });
    expect(statuses.claim(paid!, T0 + 2, 60_000)).toBe(true);
    expect(statuses.markShown(paid!, null)).toBe(true);
    expect(statuses.due(T0 + 3, 10)).toEqual([]);
  });

  it('ignores a want that changes nothing, and takes one already shown by another write', () => {
    const statuses = new InvoiceStatusRepository(openDatabase(':memory:'));
    expect(statuses.want({ invoiceId: 7, companyId: 1, status: 'open' }, T0, { shown: true })).toBe(true);
    expect(statuses.due(T0, 10)).toEqual([]);
    expect(statuses.want({ invoiceId: 7, companyId: 1, status: 'open' }, T0 + 1)).toBe(false);
    expect(
      statuses.want(
        { invoiceId: 7, companyId: 1, status: 'attention', attentionKind: 'mismatch', reason: 'x' },
        T0 + 2,
      ),
    ).toBe(true);
    expect(statuses.due(T0 + 2, 10)).toHaveLength(1);
  });
});

describe('InvoiceRequestRepository', () => {
  it('records a request once per read of the invoice', () => {
    const requests = new InvoiceRequestRepository(openDatabase(':memory:'));
    const request = {
      invoiceId: 7,
      seenWriteDate: '2026-12-04 10:00:00',
      request: 'resend',
      outcome: 'done',
    };
    expect(requests.record(request, T0)).toBe(true);
    expect(requests.record(request, T0 + 1)).toBe(false);
    expect(requests.outcomeOf(7, '2026-12-04 10:00:00')).toBe('done');
    expect(requests.record({ ...request, seenWriteDate: '2026-12-04 10:05:00' }, T0 + 2)).toBe(true);
  });
});
