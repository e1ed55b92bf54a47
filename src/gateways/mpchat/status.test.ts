import { describe, expect, it } from 'vitest';
import { money } from '../../domain/money.js';
import {
  classifyMpChatOrder,
  decideSettlement,
  isTerminalMpChatStatus,
  MPCHAT_ORDER_STATUSES,
  outcomeOfStatus,
  parseTolerance,
} from './status.js';

const usdt = (minor: number, decimals = 2) => money(minor, 'USDT', decimals);
const settle = (received: string, tolerancePercent: number | string = 0.01, invoice = usdt(10_000)) =>
  decideSettlement({
    invoiceAmount: invoice,
    orderAmount: '100.00',
    receivedAmount: received,
    tolerancePercent,
  });

describe('MPChat status mapping', () => {
  it('maps every documented status explicitly', () => {
    const table = Object.fromEntries(
      MPCHAT_ORDER_STATUSES.map((status) => [status, outcomeOfStatus(status)]),
    );
    expect(table).toEqual({
      PENDING: 'pending',
      OPEN: 'pending',
      CONFIRMING: 'pending',
      PAID: 'settle',
      EXPIRED: 'expired',
      EXPIRED_PAID: 'needs_person',
      UNDERPAID: 'needs_person',
      FROZEN: 'needs_person',
    });
  });

  it('never treats an unknown or differently cased status as paid', () => {
    for (const status of ['paid', 'COMPLETED', '', 'PAID ']) {
      expect(outcomeOfStatus(status)).toBe('unknown');
      expect(
        classifyMpChatOrder(
          { status, order_amount: '100.00', received_amount: '100.00' },
          { invoiceAmount: usdt(10_000), tolerancePercent: 0.01 },
        ).outcome,
      ).toBe('unknown');
      expect(isTerminalMpChatStatus(status)).toBe(false);
    }
  });

  it('knows the terminal statuses', () => {
    expect(MPCHAT_ORDER_STATUSES.filter(isTerminalMpChatStatus)).toEqual([
      'PAID',
      'EXPIRED',
      'EXPIRED_PAID',
      'UNDERPAID',
      'FROZEN',
    ]);
  });
});

describe('decideSettlement', () => {
  it('settles in full on the exact amount, whatever the trailing zeros', () => {
    expect(settle('100')).toMatchObject({
      kind: 'full',
      receivedMinor: 10_000,
      excessMinor: 0,
      receivedExact: true,
    });
    expect(settle('100.000000')).toMatchObject({ kind: 'full', receivedMinor: 10_000 });
  });

  it('takes the tolerance bound inclusively, one micro-USDT below goes to a person', () => {
    // 100 × (1 − 0.01) = 99.
    expect(settle('99.00')).toMatchObject({
      kind: 'partial_within_tolerance',
      receivedMinor: 9_900,
      shortfallMinor: 100,
    });
    expect(settle('99.000001')).toMatchObject({
      kind: 'partial_within_tolerance',
      receivedMinor: 9_900,
      receivedExact: false,
    });
    expect(settle('98.999999').kind).toBe('needs_person');
    expect(settle('99.999999')).toMatchObject({
      kind: 'partial_within_tolerance',
      receivedMinor: 9_999,
      shortfallMinor: 1,
    });
  });

  it('uses exact decimals where floats would drift', () => {
    // 0.1 + 0.2 style trap: 0.3 × (1 − 0.1) = 0.27 exactly.
    const small = (received: string) =>
      decideSettlement({
        invoiceAmount: usdt(30),
        orderAmount: '0.3',
        receivedAmount: received,
        tolerancePercent: 0.1,
      });
    expect(small('0.27').kind).toBe('partial_within_tolerance');
    expect(small('0.269999').kind).toBe('needs_person');
    expect(settle('99.50', '0.005').kind).toBe('partial_within_tolerance');
    expect(settle('99.49', '0.005').kind).toBe('needs_person');
  });

  it('with zero tolerance only the full amount settles', () => {
    expect(settle('100.00', 0).kind).toBe('full');
    expect(settle('99.999999', 0).kind).toBe('needs_person');
  });

  it('settles an overpayment by default, or sends it to a person', () => {
    expect(settle('110.00')).toMatchObject({ kind: 'full', receivedMinor: 11_000, excessMinor: 1_000 });
    expect(
      decideSettlement({
        invoiceAmount: usdt(10_000),
        orderAmount: '100',
        receivedAmount: '100.000001',
        tolerancePercent: 0.01,
        overpayment: 'needs_person',
      }).kind,
    ).toBe('needs_person');
  });

  it('sends contradictions to a person', () => {
    expect(settle('0').kind).toBe('needs_person');
    expect(settle('abc').kind).toBe('needs_person');
    expect(settle('-100').kind).toBe('needs_person');
    expect(
      decideSettlement({
        invoiceAmount: usdt(10_000),
        orderAmount: '100.01',
        receivedAmount: '100.01',
        tolerancePercent: 0.01,
      }).kind,
    ).toBe('needs_person');
    expect(
      decideSettlement({
        invoiceAmount: money(10_000, 'EUR', 2),
        orderAmount: '100',
        receivedAmount: '100',
        tolerancePercent: 0.01,
      }).kind,
    ).toBe('needs_person');
  });

  it('works with 6-decimal USDT invoices', () => {
    expect(
      decideSettlement({
        invoiceAmount: usdt(99_990_000, 6),
        orderAmount: '99.99',
        receivedAmount: '99.989999',
        tolerancePercent: 0,
      }),
    ).toMatchObject({ kind: 'needs_person' });
    expect(
      decideSettlement({
        invoiceAmount: usdt(99_990_000, 6),
        orderAmount: '99.99',
        receivedAmount: '99.989999',
        tolerancePercent: 0.01,
      }),
    ).toMatchObject({
      kind: 'partial_within_tolerance',
      receivedMinor: 99_989_999,
      shortfallMinor: 1,
      receivedExact: true,
    });
  });

  it('refuses a tolerance that is not a fraction below 1', () => {
    expect(() => parseTolerance(1)).toThrow(RangeError);
    expect(() => parseTolerance(-0.01)).toThrow(RangeError);
    expect(() => parseTolerance(Number.NaN)).toThrow(RangeError);
    expect(parseTolerance(1e-7)).toEqual({ units: 1n, scale: 7 });
  });
});

describe('classifyMpChatOrder', () => {
  const expectation = { invoiceAmount: usdt(10_000), tolerancePercent: 0.01 };
  const classify = (status: string, received = '0') =>
    classifyMpChatOrder({ status, order_amount: '100.00', received_amount: received }, expectation);

  it('combines status and amounts', () => {
    expect(classify('PAID', '100.00').outcome).toBe('paid');
    expect(classify('PAID', '99.50').outcome).toBe('partial_within_tolerance');
    expect(classify('PAID', '50.00').outcome).toBe('needs_person');
    expect(classify('UNDERPAID', '50.00').outcome).toBe('needs_person');
    expect(classify('EXPIRED_PAID', '100.00').outcome).toBe('needs_person');
    expect(classify('FROZEN', '100.00').outcome).toBe('needs_person');
    expect(classify('CONFIRMING', '100.00').outcome).toBe('pending');
    expect(classify('OPEN').outcome).toBe('pending');
    expect(classify('EXPIRED').outcome).toBe('expired');
    expect(classify('EXPIRED', '0.000000').outcome).toBe('expired');
    expect(classify('EXPIRED', '1.00').outcome).toBe('needs_person');
  });
});
