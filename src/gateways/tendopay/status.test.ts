import { describe, expect, it } from 'vitest';
import {
  cancellationMeaning,
  TENDOPAY_NO_TRANSACTION,
  TENDOPAY_TRANSACTION_STATUSES,
  tendoPayOutcome,
} from './status.js';

describe('tendoPayOutcome', () => {
  it('maps every documented status explicitly', () => {
    const mapped = Object.fromEntries(
      TENDOPAY_TRANSACTION_STATUSES.map((status) => [status, tendoPayOutcome(status)]),
    );
    expect(mapped).toEqual({ PAID: 'paid', FAILED: 'failed', CANCELED: 'cancelled' });
  });

  it('an order without a transaction is pending', () => {
    expect(tendoPayOutcome(TENDOPAY_NO_TRANSACTION)).toBe('pending');
    expect(tendoPayOutcome(undefined)).toBe('pending');
  });

  it.each(['paid', 'Paid', 'CANCELLED', 'PENDING', 'PTOK', 'EXPIRED', '', ' PAID'])(
    '%j is unknown, never paid',
    (status) => {
      expect(tendoPayOutcome(status)).toBe('unknown');
    },
  );

  it('tells a buyer cancel from a void of a paid purchase only by history', () => {
    expect(cancellationMeaning(false)).toBe('cancelled');
    expect(cancellationMeaning(true)).toBe('refunded');
  });
});
