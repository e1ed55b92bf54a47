import { describe, expect, it } from 'vitest';
import { money } from '../../domain/money.js';
import {
  orderStatusFromAttempts,
  outcomeFromRedirect,
  outcomeFromTiloPayCode,
  paymentStatusFromTiloPay,
  TILOPAY_RESPONSE_CODES,
} from './status.js';

describe('outcomeFromTiloPayCode', () => {
  it.each([
    ['1', 'paid'],
    ['Pending', 'pending'],
    ['pending', 'pending'],
    ['PENDING', 'pending'],
    ['2', 'failed'],
    ['3', 'failed'],
    ['4', 'failed'],
    ['7', 'failed'],
    ['8', 'cancelled'],
    ['43', 'failed'],
    ['51', 'failed'],
    ['82', 'failed'],
    ['98', 'failed'],
    // Not listed, or not exactly "1": never paid.
    ['01', 'unknown'],
    [' 1', 'unknown'],
    ['1.0', 'unknown'],
    ['approved', 'unknown'],
    ['5', 'unknown'],
    ['', 'unknown'],
    [undefined, 'unknown'],
    [null, 'unknown'],
    ['toString', 'unknown'],
    ['__proto__', 'unknown'],
  ] as const)('%j → %s', (code, expected) => {
    expect(outcomeFromTiloPayCode(code)).toBe(expected);
  });

  it('maps every listed code explicitly', () => {
    for (const [code, outcome] of Object.entries(TILOPAY_RESPONSE_CODES)) {
      expect(outcomeFromTiloPayCode(code)).toBe(outcome);
    }
  });
});

describe('outcomeFromRedirect', () => {
  it.each([
    [{ code: '1' }, 'paid'],
    [{ code: '1', wpCancel: 'yes' }, 'paid'],
    [{ code: '2', wpCancel: 'yes' }, 'cancelled'],
    [{ code: undefined, wpCancel: 'yes' }, 'cancelled'],
    [{ code: 'Pending' }, 'pending'],
    [{ code: '2' }, 'failed'],
  ] as const)('%j → %s', (params, expected) => {
    expect(outcomeFromRedirect(params)).toBe(expected);
  });
});

describe('paymentStatusFromTiloPay', () => {
  it.each([
    ['paid', 'completed'],
    ['pending', 'pending'],
    ['failed', 'failed'],
    ['cancelled', 'failed'],
    ['unknown', 'unknown'],
  ] as const)('%s → %s', (outcome, expected) => {
    expect(paymentStatusFromTiloPay(outcome)).toBe(expected);
  });
});

describe('orderStatusFromAttempts', () => {
  const invoice = money(1_500_000, 'CRC', 2);
  const approved = { code: '1', amount: '15000.00', currency: 'CRC' };

  it('no attempt yet is pending', () => {
    expect(orderStatusFromAttempts([], invoice)).toEqual({ status: 'pending', detail: 'no_attempt' });
  });

  it('a decline then an approval is paid, by the approved attempt', () => {
    const result = orderStatusFromAttempts(
      [{ code: '2', amount: '15000.00', currency: 'CRC' }, approved],
      invoice,
    );
    expect(result).toEqual({ status: 'paid', detail: 'paid', paidAttempt: approved });
  });

  it.each([
    ['15000', 'CRC'],
    ['15000.0', 'crc'],
    [' 15000.00', 'CRC'],
  ])('accepts the same amount written %j %s', (amount, currency) => {
    expect(orderStatusFromAttempts([{ code: '1', amount, currency }], invoice).status).toBe('paid');
  });

  it.each([
    ['14999.99', 'CRC'],
    ['15000.01', 'CRC'],
    ['15000.00', 'USD'],
    ['15,000.00', 'CRC'],
    [undefined, 'CRC'],
    ['15000.00', undefined],
  ])('an approval of %j %s is unknown, never paid', (amount, currency) => {
    expect(orderStatusFromAttempts([{ code: '1', amount, currency }], invoice)).toEqual({
      status: 'unknown',
      detail: 'approved_mismatch',
    });
  });

  it('a SINPE pending attempt keeps the order pending, even after a decline', () => {
    expect(
      orderStatusFromAttempts(
        [{ code: '2' }, { code: 'Pending', amount: '15000.00', currency: 'CRC' }],
        invoice,
      ),
    ).toEqual({ status: 'pending', detail: 'pending_attempt' });
  });

  it('an unknown code is unknown', () => {
    expect(orderStatusFromAttempts([{ code: '2' }, { code: '77' }], invoice)).toEqual({
      status: 'unknown',
      detail: 'unknown_code',
    });
  });

  it('otherwise the last attempt decides between failed and cancelled', () => {
    expect(orderStatusFromAttempts([{ code: '8' }, { code: '2' }], invoice).status).toBe('failed');
    expect(orderStatusFromAttempts([{ code: '2' }, { code: '8' }], invoice).status).toBe('cancelled');
  });
});
