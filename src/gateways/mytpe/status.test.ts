import { describe, expect, it } from 'vitest';
import { linkStatusFromMyTpe, paymentStatusFromMyTpe } from './status.js';

describe('paymentStatusFromMyTpe', () => {
  it.each([
    ['completed', 'completed'],
    ['pending', 'pending'],
    ['processing', 'pending'],
    ['failed', 'failed'],
    ['refused', 'failed'],
    ['refunded', 'refunded'],
    ['paid', 'unknown'],
    ['COMPLETED', 'unknown'],
    ['', 'unknown'],
    ['success', 'unknown'],
  ] as const)('%j → %s', (input, expected) => {
    expect(paymentStatusFromMyTpe(input)).toBe(expected);
  });
});

describe('linkStatusFromMyTpe', () => {
  it.each([
    // one_shot lifecycle
    ['active', 'awaiting_payment', 'open'],
    ['closed', 'paid', 'paid'],
    ['closed', 'expired', 'expired'],
    ['inactive', 'inactive', 'cancelled'],
    ['inactive', 'awaiting_payment', 'cancelled'],
    // create answer and reusable links
    ['active', 'active', 'open'],
    ['active', 'active_receiving_payments', 'open'],
    // payment_status missing: fall back on status
    ['active', undefined, 'open'],
    ['active', null, 'open'],
    ['inactive', undefined, 'cancelled'],
    ['closed', undefined, 'unknown'],
    // contradictions and unknown values are never paid
    ['active', 'paid', 'unknown'],
    ['inactive', 'paid', 'unknown'],
    ['closed', 'awaiting_payment', 'unknown'],
    ['archived', 'paid', 'unknown'],
    ['archived', undefined, 'unknown'],
    ['active', 'quota_reached', 'open'],
    ['closed', 'quota_reached', 'unknown'],
    ['weird', 'weirder', 'unknown'],
  ] as const)('status=%j payment_status=%j → %s', (status, paymentStatus, expected) => {
    expect(linkStatusFromMyTpe({ status, payment_status: paymentStatus })).toBe(expected);
  });
});
